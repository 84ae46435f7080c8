using System.Security.Cryptography;
using Failmail.Api;
using Failmail.Batching;
using Failmail.Outputs;
using Failmail.Relay;
using Failmail.Rewriting;
using Failmail.Silences;
using Failmail.Sendmail;
using Failmail.Smtp;

namespace Failmail.Cli;

// `failmail check`'s first part, as `postfix check`: every setting and every file it names,
// through the code the daemon runs at start-up (OptionsValidator, then each area's settings
// record and loaders), so the check can neither miss nor invent a rule. Unlike start-up it
// does not stop at the first failure: one line per problem, flag first.
internal static class SettingsCheck
{
    public static IReadOnlyList<string> Problems(FailmailOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        var report = new Report();
        foreach (var problem in OptionsValidator.Validate(options))
        {
            report.Add("", problem);
        }

        // Each file alone first, so that a bad alias file does not hide a bad canonical map;
        // then the rewriter as the daemon builds it, for everything else it parses.
        if (options.Aliases.Length > 0)
        {
            report.Try("aliases", () => AliasTable.Load(options.Aliases));
        }
        if (options.SenderCanonical.Length > 0)
        {
            report.Try("sender-canonical", () => CanonicalMap.Load(options.SenderCanonical, options.SenderCanonicalStatic));
        }
        if (options.RecipientCanonical.Length > 0)
        {
            report.Try("recipient-canonical", () => CanonicalMap.Load(options.RecipientCanonical, options.RecipientCanonicalStatic));
        }
        report.Try("", () => AddressRewriter.Create(options));

        report.Try("", () => SmtpSettings.From(options));
        if (options.TlsCert.Length > 0 && options.TlsKey.Length > 0)
        {
            report.Try("tls-cert", () => CheckCertificate(options, time));
        }

        if (RelaySettings.TryFrom(options, out var relay, out _) && !relay.IsDebug)
        {
            if (relay.PasswordFile.Length > 0)
            {
                report.Try("relay-password-file", () => RelayCredentials.Load(relay));
            }
            if (relay.CaFile.Length > 0)
            {
                report.Try("relay-ca-file", () => RelayCertificatePolicy.Load(relay).Dispose());
            }
        }

        // The expressions compiled and the template parsed as the batcher does at start-up.
        report.Try("template", () => BatchSettings.From(options));
        report.Try("", () => DigestLimits.From(options));
        report.Try("spool-dir", () => SpoolSettings.From(options));
        // The API's settings (token file, HTTPS certificate) and the silences as the daemon
        // loads them.
        if (ApiSettings.Problems(options).Count == 0)
        {
            // (Problems themselves came through OptionsValidator above.)
            report.Try("", () => ApiSettings.From(options).Certificate?.Dispose());
        }
        report.Try("silences-file", () => SilenceBook.Open(options.SilencesFile, time));
        // Every line of the transport map at once, with its file:line (the daemon's start
        // stops at the same problems). Read with this environment, as the daemon's would be.
        if (options.TransportMap.Length > 0)
        {
            foreach (var problem in TransportMap.Check(options.TransportMap, null, out _))
            {
                report.Add("transport-map", problem);
            }
        }

        foreach (var (flag, path) in Directories(options))
        {
            if (File.Exists(path))
            {
                report.Add(flag, $"{path}: is a file, not a directory");
            }
            else if (!Directory.Exists(path) && Path.GetDirectoryName(Path.GetFullPath(path)) is { } parent && !Directory.Exists(parent))
            {
                // The daemon creates the directory itself, but not its parents.
                report.Add(flag, $"{path}: neither it nor its parent directory {parent} exists");
            }
        }
        return report.Lines;
    }

    // The server certificate as the listener loads it (readable, parses, the key matches),
    // and in its validity period: clients refuse an expired one.
    private static void CheckCertificate(FailmailOptions options, TimeProvider time)
    {
        var context = SmtpTls.Load(options.TlsCert, options.TlsKey);
        var leaf = context.TargetCertificate;
        var now = time.GetUtcNow();
        if (leaf.NotAfter.ToUniversalTime() < now.UtcDateTime)
        {
            throw new CryptographicException($"--tls-cert {options.TlsCert}: the certificate expired on {leaf.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z ({leaf.Subject})");
        }
        if (leaf.NotBefore.ToUniversalTime() > now.UtcDateTime)
        {
            throw new CryptographicException($"--tls-cert {options.TlsCert}: the certificate is not valid before {leaf.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z ({leaf.Subject})");
        }
    }

    private static IEnumerable<(string Flag, string Path)> Directories(FailmailOptions options)
    {
        if (!options.MemoryStore)
        {
            yield return ("message-store", options.MessageStore);
            yield return ("queue-dir", options.QueueDir);
        }
        yield return ("fail-dir", options.FailDir);
        yield return ("quarantine-dir", options.QuarantineDir);
        yield return ("spool-dir", options.SpoolDir);
        if (options.AllDir.Length > 0)
        {
            yield return ("all-dir", options.AllDir);
        }
    }

    // Problem lines in order, each once: the same failure may surface through two checks
    // (a broken expression in the validator and in the batcher's settings).
    private sealed class Report
    {
        private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

        public List<string> Lines { get; } = [];

        public void Try(string flag, Action check)
        {
            try
            {
                check();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or FormatException
                or ExpressionException or CryptographicException)
            {
                Add(flag, e.Message);
            }
        }

        public void Add(string flag, string message)
        {
            if (message.Length == 0 || !_seen.Add(message))
            {
                return;
            }
            // Every line names its flag first, as start-up errors do.
            Lines.Add(flag.Length == 0 || message.StartsWith("--", StringComparison.Ordinal) ? message : $"--{flag}: {message}");
        }
    }
}
