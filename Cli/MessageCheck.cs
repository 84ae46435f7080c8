using Failmail.Batching;
using Failmail.GoSyntax;
using Failmail.Intake;
using Failmail.Maildir;
using Failmail.Outputs;
using Failmail.Relay;
using Failmail.Rewriting;
using Failmail.Silences;
using Failmail.Smtp;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Failmail.Cli;

// `failmail check MESSAGE.eml`, as amtool's route test: what failmail would do with this
// message. It goes in through the daemon's own door (Intake/MessageIntake over a memory
// store: the envelope check MAIL and RCPT ask, the envelope and header rewriting), its keys
// come from the batcher's MessageKeyEvaluator, and the targets from the relay's settings.
// Nothing is stored or sent. The envelope is the message's own unless given: sender from
// Return-Path, else From; recipients from To, Cc and Bcc (as `sendmail -t`).
internal static class MessageCheck
{
    private static readonly string[] AddressHeaders = ["From", "Sender", "Reply-To", "To", "Cc", "Bcc"];

    // Writes the report to output; returns the problems (a refused envelope, an unreadable file).
    public static async Task<IReadOnlyList<string>> RunAsync(FailmailOptions options, string path, string? sender, IReadOnlyList<string> recipients,
        TextWriter output, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        byte[] bytes;
        MimeMessage original;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            using var stream = new MemoryStream(bytes, writable: false);
            original = await MimeMessage.LoadAsync(stream, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return [$"{path}: cannot read the message: {e.Message}"];
        }
        var from = sender ?? EnvelopeSender(original);
        var to = recipients.Count > 0 ? recipients : original.To.Mailboxes.Concat(original.Cc.Mailboxes).Concat(original.Bcc.Mailboxes).Select(m => m.Address).ToList();

        var store = new MemoryMessageStore();
        var intake = new MessageIntake(store, StoreOnlySink.Instance, AddressRewriter.Create(options), SmtpSettings.From(options).Rewriter, TimeProvider.System);
        var problems = new List<string>();
        if (intake.Check.SenderProblem(from) is { } refusedSender)
        {
            problems.Add($"{path}: MAIL FROM:<{from}> would be refused: 553 {refusedSender}");
        }
        foreach (var recipient in to)
        {
            if (intake.Check.RecipientProblem(recipient) is { } refused)
            {
                problems.Add($"{path}: RCPT TO:<{recipient}> would be refused: 553 {refused}");
            }
        }
        if (to.Count == 0)
        {
            problems.Add($"{path}: no recipients (no To, Cc or Bcc; give --rcpt)");
        }
        if (problems.Count > 0)
        {
            return problems;
        }

        ReceivedMessage stored;
        var draft = intake.CreateDraft();
        await using (draft.ConfigureAwait(false))
        {
            draft.Write(bytes);
            stored = (await intake.CommitAsync(draft, intake.Envelope(from, to, "check"), cancellationToken).ConfigureAwait(false)).Message;
        }
        byte[] storedBytes;
        using (var read = store.OpenRead(stored.Id))
        using (var copy = new MemoryStream())
        {
            await read.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
            storedBytes = copy.ToArray();
        }

        await output.WriteLineAsync($"message {path}:").ConfigureAwait(false);
        await output.WriteLineAsync($"  envelope sender: {Change(from, stored.Envelope.From)}").ConfigureAwait(false);
        await output.WriteLineAsync($"  envelope recipients: {string.Join(", ", to.Select(r => $"<{r}>"))}{(to.SequenceEqual(stored.Envelope.Recipients) ? " (unchanged)" : $" -> {string.Join(", ", stored.Envelope.Recipients.Select(r => $"<{r}>"))}")}").ConfigureAwait(false);
        using var storedMime = StoredMessages.Parse(storedBytes, stored.Id, logger);
        foreach (var name in AddressHeaders)
        {
            var after = storedMime.Headers[name];
            if (after is null)
            {
                continue;
            }
            var before = original.Headers[name];
            var note = before is null ? " (added)" : string.Equals(before.Trim(), after.Trim(), StringComparison.Ordinal) ? "" : $" (was: {before.Trim()})";
            await output.WriteLineAsync($"  header {name}: {after.Trim()}{note}").ConfigureAwait(false);
        }

        var batch = BatchSettings.From(options);
        // The digests' recipients, as the batcher makes them: one batch per normalised address.
        var digestRecipients = stored.Envelope.Recipients.Select(RecipientAddress.Normalize).Distinct(StringComparer.Ordinal).ToList();
        var keys = new MessageKeyEvaluator(batch.BatchExpr, batch.GroupExpr, logger, batch.GroupNormalize);
        if (!keys.TryFromHead(storedBytes, stored, out var messageKeys))
        {
            if (DigestBuilder.IsDigest(storedMime) && batch.MergeDigests && DigestDocument.Find(storedMime, out _) is { } document)
            {
                var folded = keys.FromMime(storedMime, stored);
                await output.WriteLineAsync($"  a spoke's digest (--merge-digests): its {document.Groups.Count} groups ({document.Total} messages) are folded into batch key \"{folded.BatchKey}\" by group key").ConfigureAwait(false);
                await WriteTargetsAsync(options, output, digestRecipients).ConfigureAwait(false);
                return [];
            }
            if (DigestBuilder.IsDigest(storedMime))
            {
                await output.WriteLineAsync("  a failmail digest: passed through to each recipient as it is, not batched").ConfigureAwait(false);
                await WriteTargetsAsync(options, output, digestRecipients).ConfigureAwait(false);
                return [];
            }
            messageKeys = keys.FromMime(storedMime, stored);
        }
        await output.WriteLineAsync($"  batch key: \"{messageKeys.BatchKey}\" (--batch-expr {options.BatchExpr})").ConfigureAwait(false);
        await output.WriteLineAsync($"  group key: \"{messageKeys.GroupKey}\" (--group-expr {options.GroupExpr})").ConfigureAwait(false);
        await output.WriteLineAsync($"  subject in the digest: {messageKeys.Subject}").ConfigureAwait(false);
        await WriteSilenceAsync(options, stored, storedMime, messageKeys, digestRecipients, output).ConfigureAwait(false);
        await output.WriteLineAsync($"  digests: one per recipient: {string.Join(", ", digestRecipients)}; sent after {GoDuration.Format(batch.WaitPeriod)} without a message for the batch, at most {GoDuration.Format(batch.MaxWait)} after its first").ConfigureAwait(false);
        await WriteTargetsAsync(options, output, digestRecipients).ConfigureAwait(false);
        return [];
    }

    // The active silence that would take the message (as the batcher asks, after the keys),
    // from the daemon's --silences-file.
    private static async Task WriteSilenceAsync(FailmailOptions options, ReceivedMessage stored, MimeMessage mime, MessageKeys keys, IReadOnlyList<string> recipients, TextWriter output)
    {
        SilenceBook book;
        try
        {
            book = SilenceBook.Open(options.SilencesFile, TimeProvider.System);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await output.WriteLineAsync($"  silences: cannot read them: {e.Message}").ConfigureAwait(false);
            return;
        }
        var fields = new SilenceFields(keys.Subject, stored.Envelope.From, recipients, keys.BatchKey, keys.GroupKey,
            name => mime.Headers[name] is { } value ? HeaderText.Cut(value) : null);
        var now = TimeProvider.System.GetUtcNow();
        var line = book.Match(fields, now) is { } silence
            ? $"  silenced by {silence.Id} until {silence.EndsAt:yyyy-MM-dd HH:mm:ss} UTC ({silence.CreatedBy}: {silence.Comment}): left out of every digest"
            : $"  silences: none of the {book.All.Count(s => s.IsActive(now))} active ones matches";
        await output.WriteLineAsync(line).ConfigureAwait(false);
    }

    private static async Task WriteTargetsAsync(FailmailOptions options, TextWriter output, IEnumerable<string> recipients)
    {
        if (options.RelayAll)
        {
            await output.WriteLineAsync("  also relayed as it is, at once (--relay-all)").ConfigureAwait(false);
        }
        var rewriter = AddressRewriter.Create(options);
        await output.WriteLineAsync($"  digest sender: envelope <{rewriter.RewriteDigestSender(options.From, envelope: true)}>, From: {rewriter.RewriteDigestSender(options.From, envelope: false)}").ConfigureAwait(false);
        var relay = RelaySettings.From(options);
        await output.WriteLineAsync(relay.IsDebug
            ? "  targets: stdout (--relay-addr debug)"
            : $"  targets: SMTP relay {string.Join(", failing over to ", relay.Addresses.Select(a => a.Url))}").ConfigureAwait(false);
        // --transport-map: where each recipient's digest goes (outputs named without secrets).
        if (options.TransportMap.Length > 0
            && TransportMap.TryLoad(options.TransportMap, Environment.GetEnvironmentVariable, out var map, out _, out _))
        {
            foreach (var recipient in recipients)
            {
                await output.WriteLineAsync($"  transport map: {recipient} -> {string.Join(", ", map.Lookup(recipient).Select(t => t.Display))}").ConfigureAwait(false);
            }
        }
    }

    // Return-Path (as a delivered message carries it), else the first From address.
    private static string EnvelopeSender(MimeMessage message)
    {
        if (message.Headers["Return-Path"] is { } returnPath)
        {
            var trimmed = returnPath.Trim().TrimStart('<').TrimEnd('>');
            return trimmed;
        }
        return message.From.Mailboxes.FirstOrDefault()?.Address ?? "";
    }

    private static string Change(string before, string after) =>
        string.Equals(before, after, StringComparison.Ordinal) ? $"<{before}> (unchanged)" : $"<{before}> -> <{after}>";
}
