using System.Text;
using Failmail.Maildir;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;

namespace Failmail.Batching;

// `failmail preview`: batches .eml files as the service would and returns each digest as text,
// through the same expressions, Batcher and DigestBuilder. Output is deterministic for the same
// files and options (build.sh compares the AOT binary's output with the JIT run's):
// - recipients come from the To and Cc headers (there is no envelope), else recipient@localhost;
// - a message's receive time is its Date header, else the file's modification time;
// - the digest Date is the newest receive time, and times are shown in UTC.
// Throws ExpressionException for a broken expression or template, IOException for unreadable files.
internal static class DigestPreview
{
    public const string DefaultRecipient = "recipient@localhost";

    public static IReadOnlyList<string> Render(FailmailOptions options, IReadOnlyList<string> emlPaths) =>
        Render(BatchSettings.From(options), emlPaths);

    public static IReadOnlyList<string> Render(BatchSettings settings, IReadOnlyList<string> emlPaths)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(emlPaths);
        var batchExpr = settings.BatchExpr;
        var groupExpr = settings.GroupExpr;
        var builder = new DigestBuilder(settings.Digest, settings.Template, TimeZoneInfo.Utc);
        var batcher = new Batcher(long.MaxValue / 4, long.MaxValue / 4);
        var messages = new Dictionary<string, MimeMessage>(StringComparer.Ordinal);
        var output = new List<string>();

        for (var i = 0; i < emlPaths.Count; i++)
        {
            var path = emlPaths[i];
            var id = path;
            var message = StoredMessages.Parse(File.ReadAllBytes(path), id, NullLogger.Instance);
            messages[id] = message;
            var recipients = message.To.Mailboxes.Concat(message.Cc.Mailboxes).Select(m => m.Address).ToList();
            if (recipients.Count == 0)
            {
                recipients.Add(DefaultRecipient);
            }
            var received = message.Date != DateTimeOffset.MinValue ? message.Date : new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);
            if (DigestBuilder.IsDigest(message))
            {
                output.Add(Write(message));
                continue;
            }
            var envelope = new Envelope(message.From.Mailboxes.FirstOrDefault()?.Address ?? "", recipients, received, "preview");
            var variables = MessageVariables.Build(message, envelope, batchExpr.NeedsBody || groupExpr.NeedsBody);
            var subject = MessageText.Subject(message);
            var example = "";
            var groupKey = groupExpr.Evaluate(variables);
            if (settings.GroupNormalize)
            {
                groupKey = SubjectNormalizer.Normalize(groupKey);
                subject = SubjectNormalizer.Normalize(subject, out example);
            }
            var batched = new BatchedMessage(id, batchExpr.Evaluate(variables), groupKey, subject, recipients, received)
            {
                Host = SendingHost.Of(envelope),
                Example = example,
            };
            batcher.Add(batched, i);
        }

        var due = batcher.FlushAll()
            .OrderBy(b => b.BatchKey, StringComparer.Ordinal)
            .ThenBy(b => b.Recipient, StringComparer.Ordinal);
        foreach (var batch in due)
        {
            var digest = builder.Build(batch, id => messages.GetValueOrDefault(id), batch.Newest.ToUniversalTime());
            output.Add(Write(digest.Message));
        }
        return output;
    }

    private static string Write(MimeMessage message)
    {
        using var stream = new MemoryStream();
        message.WriteTo(new FormatOptions { NewLineFormat = NewLineFormat.Unix }, stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
