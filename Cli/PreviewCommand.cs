using System.CommandLine;
using Failmail.Batching;

namespace Failmail.Cli;

// `failmail [flags] preview MESSAGE.eml...`: prints the digests those messages would make
// under the given --batch-expr, --group-expr, --template and --subject-prefix, without
// running anything. Operators try a template with it; build.sh compares the AOT binary's
// output with the JIT build's, because DotLiquid breaks silently when trimmed wrongly.
internal sealed class PreviewCommand : Command
{
    private readonly FailmailCommand _root;
    private readonly Argument<string[]> _messages = new("messages")
    {
        Description = "RFC 5322 message files (.eml) to batch",
        Arity = ArgumentArity.OneOrMore,
    };

    public PreviewCommand(FailmailCommand root)
        : base("preview", "print the digests that these message files would be batched into")
    {
        _root = root;
        Arguments.Add(_messages);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = parseResult.InvocationConfiguration.Output;
        var error = parseResult.InvocationConfiguration.Error;
        if (!_root.TryPrepare(parseResult, out var options, out var problem))
        {
            await error.WriteLineAsync($"failmail: {problem}").ConfigureAwait(false);
            return FailmailCommand.UsageError;
        }
        try
        {
            var digests = DigestPreview.Render(options, parseResult.GetValue(_messages) ?? []);
            for (var i = 0; i < digests.Count; i++)
            {
                if (i > 0)
                {
                    await output.WriteLineAsync().ConfigureAwait(false);
                }
                await output.WriteAsync(digests[i]).ConfigureAwait(false);
            }
            return 0;
        }
        catch (Exception e) when (e is ExpressionException or IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"failmail: preview: {e.Message}").ConfigureAwait(false);
            return FailmailCommand.UsageError;
        }
    }
}
