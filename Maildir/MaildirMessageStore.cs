using Microsoft.Extensions.Logging;

namespace Failmail.Maildir;

// A maildir store, laid out like failmail's (spec §3.2) so either can read the other's:
// bytes in cur/<id>, envelope JSON in .meta/<id>, id = <name>:2,S. It is the outgoing queue
// (--queue-dir: one file per digest, written by the relay's hand-off) and the legacy part
// of the incoming store, which Log/LogMessageStore reads beside its message log.
//
// On-disk invariants (see MaildirLayout for the paths):
//   - .meta/<id> exists  <=>  the message is committed (acknowledged with 250 or about to
//     be). A meta is renamed in only after cur/<id> and the contents of both files are
//     durable (GroupCommitter), so a committed meta always has its complete bytes.
//   - cur/<id> without .meta/<id> was never acknowledged; recovery deletes it.
//   - tmp/ holds only unfinished deliveries; recovery deletes them.
//   - Remove deletes the meta first (uncommit), then the bytes.
//   - Entries that cannot be loaded go to quarantine/, never block the others.
internal sealed class MaildirMessageStore : IMessageStore, IDisposable
{
    private static readonly ParallelOptions RemoveParallelism = new() { MaxDegreeOfParallelism = 8 };

    private readonly MaildirLayout _layout;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly MaildirName _names = new();
    private readonly MaildirScanner _scanner;
    private readonly GroupCommitter _committer;
    // The recovery scan's result, handed to the first LoadPending if nothing was committed
    // or removed in between: a restart with 100k pending then reads the metas once.
    private List<ReceivedMessage>? _recovered;
    private long _removeCalls;

    public MaildirMessageStore(string root, ILoggerFactory loggerFactory, TimeProvider timeProvider)
        : this(root, loggerFactory, timeProvider, CommitSync.FileSystem)
    {
    }

    internal MaildirMessageStore(string root, ILoggerFactory loggerFactory, TimeProvider timeProvider, CommitSync sync)
        : this(root, loggerFactory, timeProvider, sync, recover: true)
    {
    }

    // A store that another live failmail also writes (`failmail resend` into the queue, a
    // reload child while its parent drains, --sender beside a running --receiver): no
    // recovery, which would delete the other's drafts in tmp/ and its commits caught between
    // their two renames. Crash leftovers wait for the next start of the owning process.
    internal static MaildirMessageStore OpenForAppend(string root, ILoggerFactory loggerFactory, TimeProvider timeProvider) =>
        new(root, loggerFactory, timeProvider, CommitSync.FileSystem, recover: false);

    private MaildirMessageStore(string root, ILoggerFactory loggerFactory, TimeProvider timeProvider, CommitSync sync, bool recover)
    {
        _layout = new MaildirLayout(Path.GetFullPath(root));
        _logger = loggerFactory.CreateLogger<MaildirMessageStore>();
        _timeProvider = timeProvider;
        _layout.Create();

        _scanner = new MaildirScanner(_layout, _logger);
        if (!recover)
        {
            _committer = new GroupCommitter(_layout, _logger, Counters, sync);
            return;
        }
        int removed;
        try
        {
            removed = RemoveLeftovers();
            _recovered = _scanner.Scan(removeOrphans: true);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"Cannot read the message store {_layout.Root}: {e.Message}", e);
        }
        MaildirEvents.StoreOpened(_logger, _layout.Root, _recovered.Count, removed + _scanner.OrphansRemoved, _scanner.Quarantined);

        _committer = new GroupCommitter(_layout, _logger, Counters, sync);
    }

    public string Root => _layout.Root;

    internal StoreCounters Counters { get; } = new();

    public IMessageDraft CreateDraft() =>
        new MaildirDraft(_layout, _committer, Counters, _logger, _names.Next(_timeProvider.GetUtcNow()));

    // Reads only .meta/ and the cur/ listing, never message bytes. Safe to call while
    // commits and removals run.
    public IReadOnlyList<ReceivedMessage> LoadPending()
    {
        lock (_scanner)
        {
            var recovered = _recovered;
            _recovered = null;
            if (recovered is not null && Counters.Commits == 0 && Interlocked.Read(ref _removeCalls) == 0)
            {
                return recovered;
            }
            return _scanner.Scan(removeOrphans: false);
        }
    }

    public Stream OpenRead(string id)
    {
        if (!MaildirName.IsValidId(id))
        {
            throw new ArgumentException($"not a message id: {id}", nameof(id));
        }
        return new FileStream(_layout.CurFile(id), FileMode.Open, FileAccess.Read,
            FileShare.ReadWrite | FileShare.Delete, 16 * 1024, FileOptions.SequentialScan);
    }

    // Failures are logged, not thrown: a message that could not be removed is at worst sent
    // again after a restart, while an exception here would stop the batcher.
    public void Remove(IEnumerable<string> ids)
    {
        Interlocked.Increment(ref _removeCalls);
        var uncommitted = 0;
        // Freeing a file's blocks can wait on the device (about 3 ms per unlink on a disk
        // mounted with discard), so a digest's worth of messages is removed in parallel.
        Parallel.ForEach(ids.Where(MaildirName.IsValidId), RemoveParallelism, id =>
        {
            try
            {
                File.Delete(_layout.MetaFile(id));
                Interlocked.Increment(ref uncommitted);
                File.Delete(_layout.CurFile(id));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                MaildirEvents.RemoveFailed(_logger, id, e.Message);
            }
        });
        if (uncommitted > 0)
        {
            try
            {
                // One sync for the whole call: the meta deletions are what must last.
                FileSync.Directory(_layout.Meta);
                Counters.RemoveSynced();
            }
            catch (IOException e)
            {
                MaildirEvents.RemoveFailed(_logger, "(sync of .meta)", e.Message);
            }
        }
    }

    // A draft that is written and then discarded: exactly what an SMTP session would need.
    public void CheckWritable()
    {
        var draft = CreateDraft();
        try
        {
            draft.Write("probe\r\n"u8);
        }
        finally
        {
            draft.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    // Waits for queued commits; later commits fail with IOException.
    public void Dispose() => _committer.CompleteAsync().GetAwaiter().GetResult();

    private int RemoveLeftovers()
    {
        var removed = 0;
        foreach (var path in Directory.EnumerateFiles(_layout.Tmp))
        {
            GroupCommitter.TryDelete(path);
            MaildirEvents.LeftoverRemoved(_logger, path);
            removed++;
        }
        return removed;
    }
}
