using System.Text;
using Failmail.Maildir;

namespace Failmail.Batching;

// --quarantine-dir: a maildir for messages that broke a stage after their 250 (keying,
// rewriting, digest building). Each file is the stored message behind header lines that say
// why and that carry its envelope in the spool's format (Sendmail/SpoolFile):
//   X-Failmail-Quarantine-Reason: <one line>
//   X-Failmail-Quarantined: <RFC 5322 date>
//   X-Failmail-Envelope-From: <sender>
//   X-Failmail-Envelope-To: <recipient>      (one per recipient the failed batch was for)
// `failmail resend quarantine` drops the two quarantine lines and leaves the rest in the
// spool, which the daemon imports as it would a new message. Thread-safe: the writer is.
internal sealed class Quarantine
{
    public const string ReasonHeader = "X-Failmail-Quarantine-Reason";
    public const string DateHeader = "X-Failmail-Quarantined";
    // RFC 5322 §2.1.1: a line of at most 998 characters; the reason is cut well below that.
    private const int MaxReason = 900;

    private static readonly string[] MaildirFolders = ["new", "cur"];

    private readonly MaildirWriter _writer;
    private long _messages;
    private long _batches;

    // Throws IOException when the maildir cannot be created (a start-up error naming the flag).
    public Quarantine(string root)
    {
        try
        {
            _writer = new MaildirWriter(root);
        }
        catch (IOException e)
        {
            throw new IOException($"--quarantine-dir {root}: {e.Message}", e);
        }
    }

    public string Root => _writer.Root;

    public long Messages => Interlocked.Read(ref _messages);

    public long Batches => Interlocked.Read(ref _batches);

    // Counts one quarantined batch (or one message quarantined on its own).
    public void CountBatch() => Interlocked.Increment(ref _batches);

    // Writes one message durably; returns its file name. Throws IOException.
    public string Put(ReadOnlySpan<byte> message, string from, IReadOnlyList<string> recipients, string reason, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        var name = _writer.Deliver(Encode(message, from, recipients, reason, now));
        Interlocked.Increment(ref _messages);
        return name;
    }

    public static byte[] Encode(ReadOnlySpan<byte> message, string from, IReadOnlyList<string> recipients, string reason, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(recipients);
        var header = new StringBuilder();
        header.Append(ReasonHeader).Append(": ").Append(OneLine(reason)).Append("\r\n");
        header.Append(DateHeader).Append(": ").Append(MimeKit.Utils.DateUtils.FormatDate(now)).Append("\r\n");
        header.Append("X-Failmail-Envelope-From: <").Append(from).Append(">\r\n");
        foreach (var recipient in recipients)
        {
            header.Append("X-Failmail-Envelope-To: <").Append(recipient).Append(">\r\n");
        }
        return [.. Encoding.UTF8.GetBytes(header.ToString()), .. message];
    }

    // A quarantined file as a spool file (its envelope lines and the message), or null when
    // the file does not start with the quarantine's lines.
    public static byte[]? ToSpoolFile(byte[] file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var offset = 0;
        var found = false;
        while (offset < file.Length)
        {
            var lf = Array.IndexOf(file, (byte)'\n', offset);
            if (lf < 0)
            {
                break;
            }
            var line = file.AsSpan(offset, lf - offset);
            if (!StartsWithName(line, ReasonHeader) && !StartsWithName(line, DateHeader))
            {
                break;
            }
            found = true;
            offset = lf + 1;
        }
        return found ? file[offset..] : null;
    }

    private static bool StartsWithName(ReadOnlySpan<byte> line, string name) =>
        line.Length > name.Length && line[name.Length] == (byte)':'
        && System.Text.Ascii.EqualsIgnoreCase(line[..name.Length], Encoding.ASCII.GetBytes(name));

    // Exception messages may hold line ends and anything a message put in them.
    public static string OneLine(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(Math.Min(text.Length, MaxReason));
        foreach (var c in text)
        {
            // Never end on half a surrogate pair.
            if (sb.Length >= MaxReason && !char.IsLowSurrogate(c))
            {
                sb.Append('…');
                break;
            }
            sb.Append(char.IsControl(c) ? ' ' : c);
        }
        return sb.ToString();
    }

    // `failmail resend DIR`: every quarantined file in DIR/new and DIR/cur goes to the spool
    // (tmp/, fsync, new/) and only then leaves DIR; the daemon imports it as a new message.
    // Files that are not quarantine files are left for the fail-dir resend. Throws IOException
    // when the spool cannot be written.
    public static int ResendToSpool(string dir, string spoolDir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        var files = MaildirFolders
            .Select(sub => Path.Combine(dir, sub))
            .Where(Directory.Exists)
            .SelectMany(Directory.GetFiles)
            .Order(StringComparer.Ordinal)
            .ToList();
        MaildirWriter? spool = null;
        var moved = 0;
        foreach (var path in files)
        {
            byte[] file;
            try
            {
                file = File.ReadAllBytes(path);
            }
            catch (FileNotFoundException)
            {
                continue;
            }
            if (ToSpoolFile(file) is not { } spooled)
            {
                continue;
            }
            spool ??= new MaildirWriter(spoolDir);
            spool.Deliver(spooled);
            File.Delete(path);
            moved++;
        }
        return moved;
    }
}
