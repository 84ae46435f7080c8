using System.CommandLine;
using Failmail.Batching;
using Failmail.Config;
using Failmail.Hosting;
using Failmail.Maildir;
using Failmail.Outputs;
using Failmail.Relay;
using Microsoft.Extensions.Logging;

namespace Failmail.Cli;

// `failmail [flags] resend DIR`: puts the messages of a fail-dir back into the outgoing
// queue (--queue-dir) once the relay works again, and those of the quarantine
// (`resend quarantine`) into the spool, to be batched again. A running failmail notices them at its
// next --poll and relays them at once; otherwise the next start does. Root flags (or
// --config) come before `resend`, so --queue-dir and --from are the daemon's own.
internal sealed class ResendCommand : Command
{
    private readonly FailmailCommand _root;

    public ResendCommand(FailmailCommand root)
        : base("resend", "queue the messages of a fail-dir maildir (DIR/new, DIR/cur) for delivery again and remove them from DIR")
    {
        ArgumentNullException.ThrowIfNull(root);
        _root = root;
        FailDirArgument = new Argument<string>("DIR") { Description = "the fail-dir maildir, usually the --fail-dir of the daemon" };
        Arguments.Add(FailDirArgument);
        SetAction(RunAsync);
    }

    public Argument<string> FailDirArgument { get; }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = parseResult.InvocationConfiguration.Output;
        var errors = parseResult.InvocationConfiguration.Error;
        if (!_root.TryPrepare(parseResult, out var options, out var error))
        {
            await errors.WriteLineAsync($"failmail: {error}").ConfigureAwait(false);
            return FailmailCommand.UsageError;
        }
        var invalid = OptionsValidator.Validate(options);
        if (invalid.Count > 0)
        {
            await errors.WriteLineAsync($"failmail: {invalid[0]}").ConfigureAwait(false);
            return FailmailCommand.UsageError;
        }
        var dir = parseResult.GetValue(FailDirArgument) ?? "";
        // Quarantined messages (`resend quarantine`) go back in through the spool: the
        // daemon takes them in again as new mail, through the same intake as SMTP.
        int requeued;
        try
        {
            requeued = Quarantine.ResendToSpool(dir, options.SpoolDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await errors.WriteLineAsync($"failmail: resend {dir}: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        if (requeued > 0)
        {
            await output.WriteLineAsync($"put {requeued} quarantined message(s) from {dir} into the spool {options.SpoolDir}; the daemon takes them in at its next --poll").ConfigureAwait(false);
        }
        if (options.MemoryStore)
        {
            if (requeued > 0)
            {
                return 0;
            }
            await errors.WriteLineAsync("failmail: resend: --memory-store has no outgoing queue on disk to resend into").ConfigureAwait(false);
            return FailmailCommand.UsageError;
        }
        // Posts an output (--transport-map) refused: DIR/outputs/*.json back into their queues.
        try
        {
            var (posts, skippedPosts) = OutputResender.Resend(dir, options.QueueDir, DateTimeOffset.UtcNow);
            foreach (var skipped in skippedPosts)
            {
                await errors.WriteLineAsync($"failmail: resend: left in place, {skipped}").ConfigureAwait(false);
            }
            if (posts > 0)
            {
                await output.WriteLineAsync($"queued {posts} output post(s) from {dir}/outputs into {options.QueueDir}/outputs").ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await errors.WriteLineAsync($"failmail: resend {dir}/outputs: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        using var loggerFactory = LoggingSetup.CreateLoggerFactory(options.LogJson, LogLevel.Warning);
        ResendResult result;
        try
        {
            using var queue = MaildirMessageStore.OpenForAppend(options.QueueDir, loggerFactory, TimeProvider.System);
            result = await FailDirResender.ResendAsync(dir, queue, options.From, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await errors.WriteLineAsync($"failmail: resend {dir}: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        foreach (var skipped in result.Skipped)
        {
            await errors.WriteLineAsync($"failmail: resend: left in place, {skipped}").ConfigureAwait(false);
        }
        if (requeued == 0 || result.Queued > 0)
        {
            await output.WriteLineAsync($"queued {result.Queued} message(s) from {dir} into {options.QueueDir}").ConfigureAwait(false);
        }
        return result.Skipped.Count > 0 ? 1 : 0;
    }
}
