using Failmail.Cli;
using Failmail.Tests.Cli;
using static Failmail.Tests.Cli.FailmailCommandKit;

namespace Failmail.Tests.Config;

// --write-config through the command line. failmail ships for linux-x64 only; the 0600 checks use Unix file modes.
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ConfigWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("failmail-write-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteFile(string name, string text) => FailmailCommandKit.WriteFile(_dir, name, text);

    [Fact]
    public async Task WriteConfigWritesFailmailsFormatThenOurSettings()
    {
        var path = Path.Combine(_dir, "out.conf");
        var outcome = await InvokeAsync("--write-config", path);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Null(outcome.Options);
        Assert.Equal("", outcome.Error);
        var expected = $$$"""
            bind_addr = localhost:2525
            socket_fd = 0
            credentials = 
            tls_cert = 
            tls_key = 
            ssl = false
            shutdown_timeout = 5s
            debug_receiver = false
            rewrite_src = 
            rewrite_dest = 
            allow_unencrypted_auth = false
            memory_store = false
            message_store = incoming
            from = {{{Defaults.From}}}
            subject_prefix = [failmail]
            wait_period = 30s
            max_wait = 5m0s
            poll = 5s
            batch_expr = {{.Header.Get "X-Failmail-Split"}}
            group_expr = {{.Header.Get "Subject"}}
            template = 
            relay_addr = localhost:25
            relay_user = 
            relay_password = 
            fail_dir = failed
            all_dir = 
            receiver = false
            sender = false
            bind_http = localhost:8025
            pidfile = 
            version = false
            relay_all = false
            max_message_size = 10485760
            max_command_line = 512
            max_recipients = 100
            max_connections = 200
            command_timeout = 5m0s
            data_timeout = 10m0s
            queue_dir = outgoing
            retry_min = 30s
            retry_max = 10m0s
            queue_lifetime = 24h0m0s
            relay_timeout = 1m0s
            log_json = false
            relay_ca_file = 
            relay_fingerprint = 
            relay_insecure = false
            relay_auth_mechanisms = 
            relay_password_file = 
            qualify_domain = 
            quarantine_dir = quarantine
            spool_dir = /var/spool/failmail
            aliases = 
            sender_canonical = 
            recipient_canonical = 
            sender_canonical_static = 
            recipient_canonical_static = 
            canonical_scope = both
            masquerade_domains = 
            force_from = 
            reply_to = 
            max_digest_size = 2M
            max_digest_groups = 200
            group_normalize = false
            digest_json = false
            merge_digests = false
            show_hosts = false
            first_wait = 0s
            follow_up_interval = 0s
            page_threshold = 0
            page_window = 1m0s
            page_to = 
            history_size = 1000
            history_dir = history
            silences_file = silences.json
            http_token_file = 
            http_tls_cert = 
            http_tls_key = 
            transport_map = 
            local_domains = 
            master = false
            allow_from = 

            """;
        Assert.Equal(expected.Replace("\r\n", "\n", StringComparison.Ordinal), await File.ReadAllTextAsync(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public async Task WriteConfigReadsBackIntoTheSameOptions()
    {
        string[] everySettingChanged =
        [
            "-bind-addr=127.0.0.1:2600", "-socket-fd=3", "-credentials=u:p:w", "-tls-cert=c.pem", "-tls-key=k.pem",
            "-ssl", "-shutdown-timeout=1.5s", "-debug-receiver", "-rewrite-src=^(.*)@a$", "-rewrite-dest=$1@b",
            "-allow-unencrypted-auth", "-memory-store", "-message-store=", "-from=alerts@example.com",
            "-subject-prefix=[x] #1", "-wait-period=0", "-max-wait=1h2m3.004s", "-poll=100ms",
            "-batch-expr={{.Header.Get \"X-Split\"}}", "-group-expr={{.Header.Get \"X-Group\"}}", "-template=t.tmpl",
            "-relay-addr=debug", "-relay-user=ru", "-relay-password=p = w # x", "-fail-dir=f", "-all-dir=all",
            "-receiver", "-sender", "-bind-http=127.0.0.1:8026", "-pidfile=failmail.pid", "-relay-all",
            "-max-message-size=0x100000", "-max-command-line=1024", "-max-recipients=5", "-max-connections=7",
            "-command-timeout=1m", "-data-timeout=2m", "-queue-dir=q", "-retry-min=1s", "-retry-max=2h",
            "-queue-lifetime=72h", "-relay-timeout=15s", "-log-json",
            "-relay-ca-file=ca.pem", "-relay-fingerprint=AB:" + string.Join(':', Enumerable.Repeat("CD", 31)), "-relay-insecure",
            "-relay-auth-mechanisms=PLAIN,LOGIN", "-relay-password-file=/run/secrets/relay",
            "-qualify-domain=q.example", "-quarantine-dir=qd", "-spool-dir=sp", "-aliases=al", "-sender-canonical=sc", "-recipient-canonical=rc",
            "-sender-canonical-static=s@example.com", "-recipient-canonical-static=r@example.com", "-canonical-scope=envelope",
            "-masquerade-domains=example.com", "-force-from=f@example.com", "-reply-to=ops@example.com", "-max-digest-size=1500k", "-max-digest-groups=50",
            "-group-normalize", "-digest-json", "-merge-digests", "-show-hosts", "-first-wait=5s", "-follow-up-interval=10m", "-page-threshold=1000", "-page-window=30s", "-page-to=pager@example.com",
            "-history-size=50", "-history-dir=h", "-silences-file=s.json", "-http-token-file=token", "-http-tls-cert=hc.pem", "-http-tls-key=hk.pem",
            "-transport-map=/etc/failmail/transport",
            "-local-domains=web-3,web-3.example", "-allow-from=10.0.0.0/8,192.0.2.7", "-master",
        ];
        var expected = await OptionsAsync(everySettingChanged);
        var path = Path.Combine(_dir, "all.conf");
        Assert.Equal(0, (await InvokeAsync([.. everySettingChanged, "--write-config", path])).ExitCode);

        var readBack = await OptionsAsync("--config", path);
        Assert.Equal(expected, readBack);
        // Every setting really differs from its default, so the round trip proves each one.
        foreach (var property in SettingProperties())
        {
            Assert.NotEqual(property.GetValue(Defaults), property.GetValue(readBack));
        }
    }

    [Fact]
    public async Task WriteConfigReplacesAnExistingFilesContentAndKeepsItsMode()
    {
        var path = WriteFile("old.conf", new string('#', 4000) + "\n");
        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
        File.SetUnixFileMode(path, mode);
        Assert.Equal(0, (await InvokeAsync("-write-config", path, "-relay-password=secret")).ExitCode);
        Assert.Equal(mode, File.GetUnixFileMode(path));
        var text = await File.ReadAllTextAsync(path);
        Assert.StartsWith("bind_addr = ", text, StringComparison.Ordinal);
        Assert.DoesNotContain('#', text);
        Assert.Contains("relay_password = secret\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteConfigWritesThroughASymlinkInsteadOfReplacingIt()
    {
        var target = Path.Combine(_dir, "target.conf");
        var link = Path.Combine(_dir, "link.conf");
        File.CreateSymbolicLink(link, target);
        Assert.Equal(0, (await InvokeAsync("-write-config", link)).ExitCode);
        Assert.Equal(target, new FileInfo(link).LinkTarget);
        Assert.StartsWith("bind_addr = localhost:2525\n", await File.ReadAllTextAsync(target), StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(target));
    }

    [Fact]
    public async Task WriteConfigIntoAMissingDirectoryFailsWithOneLine()
    {
        var path = Path.Combine(_dir, "missing", "x.conf");
        var outcome = await InvokeAsync("-write-config", path);
        Assert.Equal(1, outcome.ExitCode);
        Assert.Equal($"failmail: --write-config {path}: no such directory", Assert.Single(outcome.ErrorLines));
    }

    [Fact]
    public async Task WriteConfigRefusesInvalidSettings()
    {
        var path = Path.Combine(_dir, "bad.conf");
        Assert.Equal("failmail: --credentials: must be in username:password format", await SingleErrorAsync("--write-config", path, "--credentials=nocolon"));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task WriteConfigRefusesAValueThatWouldNotReadBack()
    {
        var path = Path.Combine(_dir, "space.conf");
        Assert.Equal($"failmail: --write-config {path}: the value of subject_prefix has a line break or surrounding whitespace, which a config file cannot hold",
            await SingleErrorAsync("--write-config", path, "--subject-prefix", "[x] "));
        Assert.False(File.Exists(path));
    }
}
