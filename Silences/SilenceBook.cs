using System.Text.Json;
using Failmail.Maildir;

namespace Failmail.Silences;

// The silences, kept in one JSON file (--silences-file): every change writes the whole file
// to a temporary name, fsyncs it, renames it over the old one and fsyncs the directory, and
// only then answers, so a silence the API confirmed survives kill -9. Silences expire on
// their own: State and Match compare with the TimeProvider's clock. Expired ones are kept
// for Retention (for the console's list), then dropped at the next change or start.
// Thread-safe: the API changes it, the batcher's loop reads an immutable snapshot.
internal sealed class SilenceBook
{
    public const int MaxSilences = 1000;
    public const int MaxMatchers = 16;
    public const int MaxTextLength = 1024;
    public static readonly TimeSpan Retention = TimeSpan.FromDays(5);

    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private volatile Silence[] _all = [];
    private long _version;

    // path: the silences file; empty keeps them in memory only (tests).
    public SilenceBook(string path, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(path);
        _path = path;
        _time = time ?? throw new ArgumentNullException(nameof(time));
    }

    // Reads the file if there is one. A file that cannot be read or parsed is a start-up
    // error: running without the silences an operator set would page them all again.
    public static SilenceBook Open(string path, TimeProvider time)
    {
        var book = new SilenceBook(path, time);
        if (path.Length == 0 || !File.Exists(path))
        {
            return book;
        }
        List<SilenceDocument>? documents;
        try
        {
            documents = JsonSerializer.Deserialize(File.ReadAllBytes(path), SilenceJsonContext.Default.ListSilenceDocument);
        }
        catch (JsonException e)
        {
            throw new IOException($"--silences-file {path}: not a silences file: {e.Message}", e);
        }
        var loaded = new List<Silence>();
        foreach (var document in documents ?? [])
        {
            if (FromDocument(document, time.GetUtcNow(), forLoad: true, out var problem) is not { } silence)
            {
                throw new IOException($"--silences-file {path}: silence {document.Id}: {problem}");
            }
            loaded.Add(silence);
        }
        book._all = [.. loaded];
        return book;
    }

    public IReadOnlyList<Silence> All => _all;

    // Changes with every saved change (for the event stream).
    public long Version => Interlocked.Read(ref _version);

    public Silence? Find(string id) => Array.Find(_all, s => s.Id == id);

    // Whether any active silence reads a header (then the batcher reads the message's headers).
    public bool NeedsHeaders(DateTimeOffset now)
    {
        foreach (var silence in _all)
        {
            if (silence.IsActive(now) && silence.Matchers.Any(m => m.HeaderName is not null))
            {
                return true;
            }
        }
        return false;
    }

    // The first active silence that matches, or null.
    public Silence? Match(in SilenceFields fields, DateTimeOffset now)
    {
        foreach (var silence in _all)
        {
            if (silence.IsActive(now) && silence.Matches(fields))
            {
                return silence;
            }
        }
        return null;
    }

    public bool AnyActive(DateTimeOffset now) => Array.Exists(_all, s => s.IsActive(now));

    // Creates a silence, or replaces the one with the document's id (Alertmanager's update).
    // Returns null with a problem naming the field (400), or with notFound for an unknown id.
    public Silence? Put(SilenceDocument document, out string? problem, out bool notFound)
    {
        ArgumentNullException.ThrowIfNull(document);
        notFound = false;
        var now = _time.GetUtcNow();
        if (FromDocument(document, now, forLoad: false, out problem) is not { } silence)
        {
            return null;
        }
        lock (_lock)
        {
            var kept = Pruned(now);
            if (!string.IsNullOrEmpty(document.Id))
            {
                var index = kept.FindIndex(s => s.Id == document.Id);
                if (index < 0)
                {
                    notFound = true;
                    problem = $"no silence with id {document.Id}";
                    return null;
                }
                kept[index] = silence;
            }
            else
            {
                if (kept.Count >= MaxSilences)
                {
                    problem = $"too many silences (at most {MaxSilences}); expire some first";
                    return null;
                }
                kept.Add(silence);
            }
            Save(kept);
            return silence;
        }
    }

    // Ends a silence now. False when there is no silence with that id.
    public bool Expire(string id)
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            var kept = Pruned(now);
            var index = kept.FindIndex(s => s.Id == id);
            if (index < 0)
            {
                return false;
            }
            var old = kept[index];
            if (old.EndsAt > now)
            {
                kept[index] = old with { EndsAt = now, StartsAt = old.StartsAt > now ? now : old.StartsAt, UpdatedAt = now };
            }
            Save(kept);
            return true;
        }
    }

    public static SilenceDocument ToDocument(Silence silence, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(silence);
        return new SilenceDocument
        {
            Id = silence.Id,
            Matchers = [.. silence.Matchers.Select(m => new MatcherDocument { Name = m.Name, Value = m.Value, IsRegex = m.IsRegex, IsEqual = m.IsEqual })],
            StartsAt = silence.StartsAt,
            EndsAt = silence.EndsAt,
            CreatedBy = silence.CreatedBy,
            Comment = silence.Comment,
            UpdatedAt = silence.UpdatedAt,
            Status = new SilenceStatus { State = silence.State(now) },
        };
    }

    private List<Silence> Pruned(DateTimeOffset now) => _all.Where(s => now - s.EndsAt < Retention).ToList();

    // The whole file, durably, before the change is visible or confirmed.
    private void Save(List<Silence> silences)
    {
        if (_path.Length > 0)
        {
            var now = _time.GetUtcNow();
            var bytes = JsonSerializer.SerializeToUtf8Bytes(silences.Select(s => ToDocument(s, now)).ToList(), SilenceJsonContext.Default.ListSilenceDocument);
            var full = Path.GetFullPath(_path);
            var directory = Path.GetDirectoryName(full) ?? ".";
            Directory.CreateDirectory(directory);
            var temporary = full + ".tmp";
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
            FileSync.Directory(directory);
        }
        _all = [.. silences];
        Interlocked.Increment(ref _version);
    }

    private static Silence? FromDocument(SilenceDocument document, DateTimeOffset now, bool forLoad, out string? problem)
    {
        problem = null;
        if (document.Matchers is not { Count: > 0 } matcherDocuments)
        {
            problem = "matchers must hold at least one matcher";
            return null;
        }
        if (matcherDocuments.Count > MaxMatchers)
        {
            problem = $"matchers: at most {MaxMatchers}";
            return null;
        }
        var matchers = new List<SilenceMatcher>(matcherDocuments.Count);
        foreach (var m in matcherDocuments)
        {
            if (m is null || SilenceMatcher.Create(m.Name, m.Value, m.IsRegex, m.IsEqual, out problem) is not { } matcher)
            {
                problem ??= "matchers[] must be objects";
                return null;
            }
            matchers.Add(matcher);
        }
        if (document.EndsAt is not { } endsAt)
        {
            problem = "endsAt is required";
            return null;
        }
        var startsAt = document.StartsAt ?? now;
        if (!forLoad && startsAt < now)
        {
            startsAt = now; // Alertmanager: a start in the past means now
        }
        if (endsAt <= startsAt && !forLoad)
        {
            problem = "endsAt must be after startsAt (and in the future)";
            return null;
        }
        if ((document.CreatedBy?.Length ?? 0) > MaxTextLength || (document.Comment?.Length ?? 0) > MaxTextLength)
        {
            problem = $"createdBy and comment hold at most {MaxTextLength} characters";
            return null;
        }
        // An update (or a loaded silence) keeps its id; a new one gets a UUID, as in Alertmanager.
        var id = string.IsNullOrEmpty(document.Id) ? Guid.NewGuid().ToString() : document.Id;
        return new Silence(id, matchers, startsAt, endsAt, document.CreatedBy ?? "", document.Comment ?? "", forLoad ? document.UpdatedAt ?? now : now);
    }
}
