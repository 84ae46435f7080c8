using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using DotLiquid;
using Failmail.Addresses;
using Failmail.GoSyntax;
using MimeKit;

namespace Failmail.Batching;

// Builds one digest (a MimeMessage) per due batch. Layout as failmail's (spec §4.6, §4.7) with
// its summary bugs fixed (§10.15): real Date, Message-ID, MIME-Version and a UTF-8 text/plain
// part; "1 instance"; Oldest/Newest from receive times; groups by count; decoded text bodies.
internal sealed class DigestBuilder
{
    // Marks failmail's own digests, so one that comes back through failmail is passed on, not batched.
    public const string MarkerHeader = "X-Failmail-Digest";
    public const string NoLongerStored = "[message no longer in the store]";

    private readonly string _from;
    private readonly string _replyTo;
    private readonly string _subjectPrefix;
    private readonly DigestTemplate? _template;
    private readonly TimeZoneInfo _zone;
    private readonly string _domain;
    private readonly DigestLimits _limits;
    private readonly bool _attachJson;
    private readonly bool _showHosts;

    // limits: --max-digest-size and --max-digest-groups, and the relay's SIZE once known.
    public DigestBuilder(FailmailOptions options, DigestTemplate? template = null, TimeZoneInfo? zone = null, DigestLimits? limits = null)
        : this(DigestSettings.From(options, limits), template, zone)
    {
    }

    public DigestBuilder(DigestSettings settings, DigestTemplate? template = null, TimeZoneInfo? zone = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _limits = settings.Limits;
        _attachJson = settings.AttachJson;
        _showHosts = settings.ShowHosts;
        _from = settings.FromAddress;
        _replyTo = settings.ReplyTo;
        _subjectPrefix = settings.SubjectPrefix;
        _template = template;
        _zone = zone ?? TimeZoneInfo.Local;
        var at = _from.LastIndexOf('@');
        _domain = at >= 0 && at < _from.Length - 1 ? _from[(at + 1)..].Trim('>', ' ') : "localhost";
    }

    // loadMessage returns the stored message for an id, or null when it is gone.
    public Digest Build(DueBatch batch, Func<string, MimeMessage?> loadMessage, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(loadMessage);
        return BuildWithBodies(batch, id => LoadBody(loadMessage, id), now);
    }

    // loadBody returns what the digest shows of a stored message's body: MessageText.Body, or
    // NoLongerStored when it is gone. It is called only for the groups that can be shown in
    // full (at most --max-digest-groups), never for the thousand others of a storm.
    public Digest BuildWithBodies(DueBatch batch, Func<string, string> loadBody, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(loadBody);
        var subject = Subject(_subjectPrefix, batch);
        var maxBytes = _limits.EffectiveMaxBytes;
        var shown = Math.Min(batch.Groups.Count, _limits.MaxGroups);
        var bodies = new List<string>(shown);
        for (var i = 0; i < shown; i++)
        {
            // A body larger than the whole digest can only be shown cut.
            // A group folded in from a spoke's digest (--merge-digests) has no body of its own.
            var body = batch.Groups[i].Folded ? "" : loadBody(batch.Groups[i].LastMessageId);
            bodies.Add(body.Length > maxBytes ? DigestLayout.Cut(body, maxBytes) : body);
        }
        // Room for the headers: From, To, Reply-To, Subject (each folded), Date, Message-ID,
        // MIME headers; the rest is the body's. Checked after the build, and shrunk if the
        // encoding took more (an 8-bit body goes out quoted-printable or base64).
        var budget = maxBytes - 2048 - 2 * (DigestLayout.Bytes(subject) + DigestLayout.Bytes(batch.Recipient) + DigestLayout.Bytes(_from) + DigestLayout.Bytes(_replyTo));
        // --digest-json: the machine-readable part, within the same bound. One that would take
        // more than half of it is left out (a hub then passes this digest through unmerged).
        var json = _attachJson ? DigestDocument.From(batch).ToJson() : null;
        var jsonBytes = json is null ? 0 : (json.LongLength * 14 / 10) + 512;
        if (jsonBytes > maxBytes / 2)
        {
            json = null;
            jsonBytes = 0;
        }
        budget -= jsonBytes;
        MimeMessage message;
        for (var attempt = 0; ; attempt++)
        {
            message = Compose(batch, subject, bodies, now, budget, out var textBytes);
            if (json is not null)
            {
                var text = message.Body;
                System.Diagnostics.Debug.Assert(text is not null, "Compose sets the text part");
                message.Body = new Multipart("mixed") { text, DigestDocument.Part(json) };
            }
            // 7bit text is its own size; base64 adds a third and a line end per 76.
            if (textBytes * 14 / 10 + jsonBytes + 4096 + 2 * DigestLayout.Bytes(subject) <= maxBytes || attempt == 4)
            {
                break;
            }
            var size = SerialisedSize(message);
            if (size <= maxBytes || budget <= DigestLimits.MinBytes / 4)
            {
                break;
            }
            budget = Math.Max(DigestLimits.MinBytes / 4, budget * maxBytes / size - 1024);
        }
        return new Digest(batch.BatchKey, batch.Recipient, message, batch.MessageIds) { Summary = batch };
    }

    private MimeMessage Compose(DueBatch batch, string subject, List<string> bodies, DateTimeOffset now, long budget, out long textBytes)
    {
        var content = new MimeKit.IO.MemoryBlockStream();
        var text = new DigestTextWriter(content);
        if (_template is null)
        {
            // Straight to UTF-8 with CRLF: a digest of many groups is large, and the string
            // the default body used to be (and its CRLF copy) was most of its cost.
            WriteDefaultBody(batch, bodies, text.Append, budget);
        }
        else
        {
            string rendered;
            try
            {
                rendered = _template.Render(TemplateVariables(batch, subject, CutEvenly(bodies, budget), now));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Never lose the digest: the default body, and why the template was not used.
                rendered = DefaultBody(batch, bodies, budget) + $"\nError rendering --template {_template.Path}: {e.Message.ReplaceLineEndings(" ")}\n";
            }
            // A template may print anything: what is past the budget is cut.
            text.Append(DigestLayout.Bytes(rendered) > budget ? DigestLayout.Cut(rendered, budget) : rendered);
        }

        var message = new MimeMessage();
        message.From.Add(Mailbox(_from));
        // The envelope recipient as it was accepted: EnvelopeMailbox quotes what MimeKit would refuse.
        message.To.Add(EnvelopeMailbox.Create(batch.Recipient));
        // --reply-to is where replies to alert mail should go; digests are that mail now.
        if (!string.IsNullOrWhiteSpace(_replyTo))
        {
            message.ReplyTo.Add(Mailbox(_replyTo));
        }
        message.Subject = subject;
        message.Date = now;
        message.MessageId = MessageId(batch, now);
        message.Headers.Add(MarkerHeader, "1");
        var part = new TextPart(MimeKit.Text.TextFormat.Plain);
        // What TextPart.SetText(Encoding.UTF8, text) does, with the bytes already made.
        part.ContentType.CharsetEncoding = Encoding.UTF8;
        text.Finish();
        textBytes = content.Length;
        content.Position = 0;
        part.Content = new MimeContent(content);
        part.ContentTransferEncoding = part.GetBestEncoding(EncodingConstraint.SevenBit);
        message.Body = part;
        return message;
    }

    // The bytes the relay will send for message (RelayService writes it so, with CRLF).
    public static long SerialisedSize(MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var measure = new MimeKit.IO.MeasuringStream();
        message.WriteTo(DosFormat, measure);
        return measure.Length;
    }

    private static readonly FormatOptions DosFormat = CreateDosFormat();

    private static FormatOptions CreateDosFormat()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        return format;
    }

    // For a template: the bodies share the budget evenly, each cut with a marker past it.
    private static List<string> CutEvenly(List<string> bodies, long budget)
    {
        if (bodies.Count == 0 || bodies.Sum(b => DigestLayout.Bytes(b)) <= budget / 2)
        {
            return bodies;
        }
        var each = Math.Max(DigestLayout.MinBodyBytes, budget / 2 / bodies.Count);
        return bodies.Select(b => DigestLayout.Bytes(b) > each ? DigestLayout.Cut(b, each) : b).ToList();
    }

    // A digest that came back through failmail: relayed unchanged to one recipient.
    public static Digest PassThrough(string recipient, MimeMessage original, string id) =>
        new("", recipient, original, new[] { id });

    public static bool IsDigest(MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.Headers.Contains(MarkerHeader);
    }

    // spec §4.6: "[failmail] 1 instance: disk full", "[failmail] 5 instances of 2 messages".
    // Cut to HeaderText.MaxBytes as a whole (the group's subject is cut already, at intake).
    public static string Subject(string prefix, DueBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var instances = Plural(batch.TotalMessages, "instance");
        var rest = batch.Groups.Count == 1
            ? $"{instances}: {OneLine(HeaderText.Cut(batch.Groups[0].Subject))}"
            : $"{instances} of {Plural(batch.Groups.Count, "message")}";
        // An empty prefix leaves no leading space (failmail's did).
        return HeaderText.Cut(string.IsNullOrEmpty(prefix) ? rest : prefix + " " + rest);
    }

    public static string Plural(long n, string noun) =>
        n == 1 ? $"1 {noun}" : string.Create(CultureInfo.InvariantCulture, $"{n} {noun}s");

    public string DefaultBody(DueBatch batch, IReadOnlyList<string> bodies, long budget = long.MaxValue)
    {
        var sb = new StringBuilder();
        WriteDefaultBody(batch, bodies, s => sb.Append(s), budget);
        return sb.ToString();
    }

    // bodies: those of the first groups, as many as may be shown in full.
    private void WriteDefaultBody(DueBatch batch, IReadOnlyList<string> bodies, Action<string> append, long budget)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(bodies);
        var unique = batch.Groups.Count;
        var preamble = string.Create(CultureInfo.InvariantCulture,
            $"--- Failmail ---\nTotal messages: {batch.TotalMessages}\nUnique messages: {unique}\nOldest message: {Time(batch.Oldest)}\nNewest message: {Time(batch.Newest)}\n");
        if (batch.FollowUp)
        {
            preamble += string.Create(CultureInfo.InvariantCulture, $"Still happening: {batch.TotalMessages:N0} more since the last digest\n");
        }
        var entries = new List<DigestLayout.Entry>(unique);
        for (var i = 0; i < unique; i++)
        {
            var group = batch.Groups[i];
            // Extra lines only for what was asked for (--show-hosts, --group-normalize):
            // without them the layout is failmail's.
            var fromLine = string.Create(CultureInfo.InvariantCulture, $"  From {Time(group.First)} to {Time(group.Last)}");
            if (_showHosts && group.Hosts.Count > 0)
            {
                fromLine += "\n  Hosts: " + GroupNotes.Hosts(group);
            }
            var note = "";
            if (group.Examples.Count > 0)
            {
                var examples = GroupNotes.Examples(group);
                fromLine += "\n  e.g. " + examples;
                note = ", e.g. " + examples;
            }
            entries.Add(new DigestLayout.Entry(group.Count,
                fromLine,
                GoFormat.Quote(HeaderText.Cut(group.Subject)),
                i < bodies.Count ? bodies[i] : null) { Note = note });
        }
        DigestLayout.Write(preamble, entries, unique, 0, 0, _limits.MaxGroups, budget, append);
    }

    private Hash TemplateVariables(DueBatch batch, string subject, List<string> bodies, DateTimeOffset now)
    {
        // Only the groups that may be shown in full (--max-digest-groups); the rest are summed.
        var groups = new List<object>(bodies.Count);
        for (var i = 0; i < bodies.Count; i++)
        {
            var g = batch.Groups[i];
            groups.Add(GroupVariables(g, bodies[i]));
        }
        return new Hash
        {
            ["subject"] = subject,
            ["from"] = _from,
            ["to"] = batch.Recipient,
            ["date"] = Time(now),
            ["total_messages"] = batch.TotalMessages,
            ["unique_messages"] = batch.Groups.Count,
            ["oldest"] = Time(batch.Oldest),
            ["newest"] = Time(batch.Newest),
            ["groups"] = groups,
            ["more_groups"] = batch.Groups.Count - bodies.Count,
            ["more_messages"] = batch.Groups.Skip(bodies.Count).Sum(g => g.Count),
            ["batch_key"] = HeaderText.Cut(batch.BatchKey),
            ["recipient"] = batch.Recipient,
            ["follow_up"] = batch.FollowUp,
            ["still_happening"] = batch.FollowUp ? GroupNotes.StillHappening(batch) : "",
            // The groups listed on one line past the full ones (no bodies), at most as many
            // as --max-digest-groups again; the rest are only summed (more_groups).
            ["overflow"] = batch.Groups.Skip(bodies.Count).Take(_limits.MaxGroups).Select(g => (object)GroupVariables(g, "")).ToList(),
        };
    }

    // Strings, numbers and lists of Hash only (DotLiquid under AOT: STYLE.md).
    private Hash GroupVariables(DueGroup g, string body) => new()
    {
        ["count"] = g.Count,
        ["subject"] = HeaderText.Cut(g.Subject),
        ["key"] = HeaderText.Cut(g.Key),
        ["first"] = Time(g.First),
        ["last"] = Time(g.Last),
        ["body"] = body,
        ["hosts"] = g.Hosts.Select(h => (object)new Hash { ["name"] = h.Host, ["count"] = h.Count }).ToList(),
        ["hosts_text"] = GroupNotes.Hosts(g),
        ["other_host_messages"] = g.OtherHostMessages,
        ["other_hosts"] = g.OtherHosts,
        ["examples"] = g.Examples.Select(e => (object)e).ToList(),
        ["examples_text"] = GroupNotes.Examples(g),
    };

    // --page-threshold: the short notice that a storm began, to --page-to at once. It is marked
    // as a digest, so if it comes back through failmail it is passed on, not batched.
    public Digest Page(StormPage page, string pageTo, TimeSpan window, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(pageTo);
        var key = OneLine(HeaderText.Cut(page.BatchKey));
        var line = string.Create(CultureInfo.InvariantCulture,
            $"storm: {page.Count:N0} messages {(key.Length > 0 ? $"for [{key}] " : "")}in {window.TotalSeconds:0.###} s, digest follows");
        var message = new MimeMessage();
        message.From.Add(Mailbox(_from));
        message.To.Add(EnvelopeMailbox.Create(pageTo));
        message.Subject = HeaderText.Cut(string.IsNullOrEmpty(_subjectPrefix) ? line : _subjectPrefix + " " + line);
        message.Date = now;
        message.MessageId = $"failmail.page.{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{page.BatchKey}\0{now.UtcTicks}")), 0, 12)}@{_domain}";
        message.Headers.Add(MarkerHeader, "page");
        message.Body = new TextPart(MimeKit.Text.TextFormat.Plain) { Text = line + "\n" };
        return new Digest(page.BatchKey, pageTo, message, []) { Page = page };
    }

    private string Time(DateTimeOffset time) => GoFormat.Rfc1123Z(TimeZoneInfo.ConvertTime(time, _zone));

    private static string LoadBody(Func<string, MimeMessage?> loadMessage, string id)
    {
        var message = loadMessage(id);
        return message is null ? NoLongerStored : MessageText.Body(message);
    }

    // --from and --reply-to may carry a display name ("Alerts <failmail@host>").
    private static MailboxAddress Mailbox(string address) =>
        MailboxAddress.TryParse(address, out var mailbox) ? mailbox : EnvelopeMailbox.Create(address);

    private static string OneLine(string s) =>
        s.ReplaceLineEndings(" ").Replace('\t', ' ');

    // Deterministic for the same batch and time (failmail preview output can be compared),
    // unique in practice because ids and times differ.
    // The same bytes as hashing the joined string, fed id by id: a storm's 10,000 ids were a
    // 600 KB string and its 300 KB of UTF-8 per digest, on the large object heap (issue 13).
    private string MessageId(DueBatch batch, DateTimeOffset now)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> buffer = stackalloc byte[256];
        Append(hash, string.Concat(batch.BatchKey, "\0", batch.Recipient, "\0", now.UtcTicks.ToString(CultureInfo.InvariantCulture)), buffer);
        foreach (var id in batch.MessageIds)
        {
            Append(hash, "\0", buffer);
            Append(hash, id, buffer);
        }
        var digest = hash.GetHashAndReset();
        return $"failmail.{Convert.ToHexStringLower(digest, 0, 12)}@{_domain}";
    }

    private static void Append(IncrementalHash hash, string text, Span<byte> buffer)
    {
        // UTF-8 of each piece alone equals its part of the joined string's (the pieces are
        // whole strings; a lone surrogate becomes U+FFFD either way).
        if (Encoding.UTF8.GetMaxByteCount(text.Length) <= buffer.Length)
        {
            hash.AppendData(buffer[..Encoding.UTF8.GetBytes(text, buffer)]);
        }
        else
        {
            hash.AppendData(Encoding.UTF8.GetBytes(text));
        }
    }
}
