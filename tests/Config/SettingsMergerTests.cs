using Failmail.Cli;
using Failmail.Tests.Cli;
using static Failmail.Tests.Cli.FailmailCommandKit;

namespace Failmail.Tests.Config;

// --config through the command line: flag over file over default, and file errors in one line.
public sealed class SettingsMergerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("failmail-merge-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteFile(string name, string text) => FailmailCommandKit.WriteFile(_dir, name, text);

    [Fact]
    public async Task FlagBeatsConfigFileBeatsDefault()
    {
        var config = WriteFile("p.conf", "# settings\nmax_wait = 1m\nDebugReceiver = true\nrelay_all = true\nfrom = file@example.com\nsubject_prefix = [file]\n");
        var options = await OptionsAsync("--from=flag@example.com", "--config", config, "-debug-receiver=false");
        Assert.Equal(Defaults with
        {
            MaxWait = TimeSpan.FromMinutes(1),
            DebugReceiver = false,
            RelayAll = true,
            From = "flag@example.com",
            SubjectPrefix = "[file]",
        }, options);
    }

    [Fact]
    public async Task ConfigAndWriteConfigKeysInAFileAreIgnored()
    {
        var config = WriteFile("i.conf", $"config = {Path.Combine(_dir, "other.conf")}\nwrite_config = {Path.Combine(_dir, "out.conf")}\nversion = true\n");
        // failmail printed its version and exited on every start when a file said version = true.
        Assert.Equal(Defaults, await OptionsAsync("--config", config));
        Assert.False(File.Exists(Path.Combine(_dir, "out.conf")));
    }

    [Fact]
    public async Task AVersionKeyInAFileMustStillBeABool()
    {
        var config = WriteFile("vb.conf", "version = yes\n");
        Assert.Equal($"failmail: --config {config}: line 1: version: invalid boolean value \"yes\" (use true or false)",
            await SingleErrorAsync("--config", config));
    }

    [Fact]
    public async Task AnUnknownKeyNamesTheFileAndLine()
    {
        var config = WriteFile("u.conf", "from = a@b\nrelay = localhost:25\n");
        Assert.Equal($"failmail: --config {config}: line 2: unknown setting \"relay\"", await SingleErrorAsync("--config", config));
    }

    [Fact]
    public async Task ABadValueNamesTheFileLineAndSetting()
    {
        var config = WriteFile("v.conf", "\n\nmax_wait = 30\n");
        Assert.Equal($"failmail: --config {config}: line 3: max_wait: invalid duration \"30\" (use Go syntax such as 30s, 5m0s)",
            await SingleErrorAsync("--config", config));
    }

    [Fact]
    public async Task AMalformedLineNamesTheFileAndLine()
    {
        var config = WriteFile("m.conf", "from = a@b\r\nmax-wait: 5m\r\n");
        Assert.StartsWith($"failmail: --config {config}: line 2: expected \"key = value\"", await SingleErrorAsync("--config", config), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingConfigFileIsOneLine()
    {
        var path = Path.Combine(_dir, "missing.conf");
        Assert.Equal($"failmail: --config {path}: no such file or directory", await SingleErrorAsync("-config", path));
    }
}
