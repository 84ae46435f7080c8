using System.CommandLine;
using Failmail.Hosting;
using Failmail.Relay;
using Microsoft.Extensions.Logging;

namespace Failmail.Cli;

// `failmail [flags] check [--config FILE] [--connect] [--sender ADDR] [--rcpt ADDR]... [MESSAGE.eml]`,
// like `postfix check` plus amtool's route test: every setting and file (SettingsCheck);
// with --connect, one connection to each relay of the list as the daemon makes it
// (RelayProbe: TLS, certificate, AUTH); with a message, what failmail would do with it
// (MessageCheck). Facts go to stdout, problems to stderr, one line each; exit 0 when all is
// well, 2 with any problem (as the daemon's start-up errors).
internal sealed class CheckCommand : Command
{
    private readonly FailmailCommand _root;
    private readonly Option<string> _config = new("--config") { Description = "read settings from this file (as the daemon's --config)", HelpName = "FILE" };
    private readonly Option<bool> _connect = new("--connect") { Description = "connect to each relay and report TLS, its certificate and AUTH" };
    private readonly Option<string> _sender = new("--sender") { Description = "the sample message's envelope sender (default: Return-Path, else From)", HelpName = "ADDR" };
    private readonly Option<string[]> _rcpt = new("--rcpt") { Description = "an envelope recipient of the sample message (default: To, Cc and Bcc)", HelpName = "ADDR" };
    private readonly Argument<string> _message = new("MESSAGE") { Description = "a message file (.eml) to route", Arity = ArgumentArity.ZeroOrOne };

    public CheckCommand(FailmailCommand root)
        : base("check", "check every setting and file, optionally connect to the relays and route a sample message; exit 2 on any problem")
    {
        ArgumentNullException.ThrowIfNull(root);
        _root = root;
        Options.Add(_config);
        Options.Add(_connect);
        Options.Add(_sender);
        Options.Add(_rcpt);
        Arguments.Add(_message);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = parseResult.InvocationConfiguration.Output;
        var errors = parseResult.InvocationConfiguration.Error;
        if (!_root.TryPrepare(parseResult, out var options, out var error, parseResult.GetValue(_config)))
        {
            await errors.WriteLineAsync($"failmail: {error}").ConfigureAwait(false);
            return FailmailCommand.UsageError;
        }
        var time = TimeProvider.System;
        var problems = new List<string>(SettingsCheck.Problems(options, time));
        var settingsOk = problems.Count == 0;

        if (parseResult.GetValue(_connect))
        {
            problems.AddRange(await ConnectAsync(options, output, time, cancellationToken).ConfigureAwait(false));
        }
        if (parseResult.GetValue(_message) is { Length: > 0 } message)
        {
            if (!settingsOk)
            {
                problems.Add($"{message}: not routed: fix the settings first");
            }
            else
            {
                using var loggerFactory = LoggingSetup.CreateLoggerFactory(options.LogJson, LogLevel.Warning);
                problems.AddRange(await MessageCheck.RunAsync(options, message, parseResult.GetValue(_sender), parseResult.GetValue(_rcpt) ?? [],
                    output, loggerFactory.CreateLogger("Failmail.Check"), cancellationToken).ConfigureAwait(false));
            }
        }

        foreach (var problem in problems)
        {
            await errors.WriteLineAsync($"failmail: {problem}").ConfigureAwait(false);
        }
        if (problems.Count > 0)
        {
            return FailmailCommand.UsageError;
        }
        await output.WriteLineAsync("failmail check: no problems found").ConfigureAwait(false);
        return 0;
    }

    private static async Task<IReadOnlyList<string>> ConnectAsync(FailmailOptions options, TextWriter output, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!RelaySettings.TryFrom(options, out var settings, out _))
        {
            return []; // its problems are reported already
        }
        if (settings.IsDebug)
        {
            await output.WriteLineAsync("relay debug: digests go to stdout, nothing to connect to").ConfigureAwait(false);
            return [];
        }
        IReadOnlyList<RelayProbeResult> results;
        try
        {
            results = await RelayProbe.ProbeAsync(settings, time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or System.Security.Cryptography.CryptographicException)
        {
            // The password or CA file: reported by the settings check.
            return [];
        }
        var problems = new List<string>();
        foreach (var result in results)
        {
            await output.WriteLineAsync($"relay {result.Relay}: {(result.Problem is null ? "connected" : "FAILED")}").ConfigureAwait(false);
            foreach (var fact in result.Facts)
            {
                await output.WriteLineAsync($"  {fact}").ConfigureAwait(false);
            }
            if (result.Problem is { } problem)
            {
                problems.Add($"--relay-addr {result.Relay}: {problem}");
            }
        }
        return problems;
    }
}
