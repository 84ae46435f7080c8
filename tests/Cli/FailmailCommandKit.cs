using System.CommandLine;
using System.Reflection;
using Failmail.Cli;

namespace Failmail.Tests.Cli;

// What the command-line tests share: a FailmailCommand run with captured output and options.
internal static class FailmailCommandKit
{
    public static readonly FailmailOptions Defaults = new();

    internal sealed record Outcome(int ExitCode, FailmailOptions? Options, string Output, string Error, InvocationConfiguration Configuration)
    {
        public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public static async Task<Outcome> InvokeAsync(params string[] args)
    {
        FailmailOptions? captured = null;
        var command = new FailmailCommand((options, _) =>
        {
            captured = options;
            return Task.FromResult(0);
        });
        var output = new StringWriter();
        var error = new StringWriter();
        var configuration = new InvocationConfiguration { Output = output, Error = error };
        var code = await command.InvokeAsync(args, configuration).WaitAsync(TimeSpan.FromSeconds(10));
        return new Outcome(code, captured, output.ToString(), error.ToString().Replace("\r\n", "\n", StringComparison.Ordinal), configuration);
    }

    public static async Task<FailmailOptions> OptionsAsync(params string[] args)
    {
        var outcome = await InvokeAsync(args);
        Assert.Equal("", outcome.Error);
        Assert.Equal(0, outcome.ExitCode);
        Assert.NotNull(outcome.Options);
        return outcome.Options;
    }

    public static async Task<string> SingleErrorAsync(params string[] args)
    {
        var outcome = await InvokeAsync(args);
        Assert.Equal(FailmailCommand.UsageError, outcome.ExitCode);
        Assert.Null(outcome.Options);
        Assert.Equal("", outcome.Output);
        return Assert.Single(outcome.ErrorLines);
    }

    public static string WriteFile(string dir, string name, string text)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    // The settable properties; RunReceiver and RunSender are derived.
    public static IEnumerable<PropertyInfo> SettingProperties() =>
        typeof(FailmailOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite);
}
