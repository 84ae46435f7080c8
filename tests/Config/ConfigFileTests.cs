using System.Text;
using Failmail.Config;

namespace Failmail.Tests.Config;

public sealed class ConfigFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("failmail-configfile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ConfigFile Parse(string text)
    {
        Assert.True(ConfigFile.TryParse(text, "test.conf", out var file, out var error), error);
        return file;
    }

    private static string ParseError(string text)
    {
        Assert.False(ConfigFile.TryParse(text, "test.conf", out _, out var error));
        return error;
    }

    [Theory]
    [InlineData("max_wait = 5m\n")]
    [InlineData("max_wait=5m\n")]
    [InlineData("max_wait\t=\t5m\n")]
    [InlineData("max_wait   =   5m   \n")]
    [InlineData("  max_wait = 5m\n")]
    [InlineData("max_wait = 5m\r\n")]
    [InlineData("max_wait = 5m")]
    [InlineData("\uFEFFmax_wait = 5m\n")]
    [InlineData("# comment\n\n   \n\t# indented comment\nmax_wait = 5m\n")]
    [InlineData("\r\n# comment\r\nmax_wait = 5m\r\n\r\n")]
    public void EveryLineFormGivesTheSetting(string text)
    {
        var entry = Assert.Single(Parse(text).Entries);
        Assert.Equal("max-wait", entry.Name);
        Assert.Equal("max_wait", entry.Key);
        Assert.Equal("5m", entry.Value);
    }

    [Theory]
    [InlineData("max_wait", "max-wait")]
    [InlineData("MaxWait", "max-wait")]
    [InlineData("maxWait", "max-wait")]
    [InlineData("MAX_WAIT", "max-wait")]
    [InlineData("max-wait", "max-wait")]
    [InlineData("BindHTTP", "bind-http")]
    [InlineData("TlsCert", "tls-cert")]
    [InlineData("allow_unencrypted_auth", "allow-unencrypted-auth")]
    [InlineData("AllowUnencryptedAuth", "allow-unencrypted-auth")]
    [InlineData("ssl", "ssl")]
    [InlineData("SSL", "ssl")]
    public void KeysAreNormalisedLikeGoFieldNames(string key, string name)
    {
        Assert.Equal(name, ConfigFile.NormalizeKey(key));
        Assert.Equal(name, Assert.Single(Parse($"{key} = x\n").Entries).Name);
    }

    [Theory]
    [InlineData("from = \"a@b\"", "\"a@b\"")]
    [InlineData("subject_prefix = [x] # not a comment", "[x] # not a comment")]
    [InlineData("batch_expr = {{.Header.Get \"X\"}}", "{{.Header.Get \"X\"}}")]
    [InlineData("credentials = user:pa=ss:word", "user:pa=ss:word")]
    [InlineData("relay_password =", "")]
    [InlineData("relay_password = ", "")]
    [InlineData("relay_password=\t\r", "")]
    public void ValuesAreLiteralAndTrimmed(string line, string value)
    {
        Assert.Equal(value, Assert.Single(Parse(line + "\n").Entries).Value);
    }

    [Fact]
    public void EntriesKeepOrderAndLineNumbers()
    {
        var file = Parse("# head\nfrom = a@b\n\nmax_wait = 1m\nfrom = c@d\n");
        Assert.Equal([(2, "from", "a@b"), (4, "max-wait", "1m"), (5, "from", "c@d")],
            file.Entries.Select(e => (e.Line, e.Name, e.Value)));
    }

    [Theory]
    [InlineData("from = a\nmax_wait: 5m\n", "line 2: expected \"key = value\": \"max_wait\" is not followed by \"=\"")]
    [InlineData("from = a\r\n\r\n= 5m\r\n", "line 3: expected \"key = value\"")]
    [InlineData("from\n", "line 1: expected \"key = value\": \"from\" is not followed by \"=\"")]
    [InlineData("from = a\n> more\n", "line 2: continuation lines")]
    [InlineData("max wait = 5m\n", "line 1: expected \"key = value\": \"max\" is not followed by \"=\"")]
    [InlineData("[section]\n", "line 1: expected \"key = value\"")]
    public void MalformedLinesAreErrorsWithTheLineNumber(string text, string expected)
    {
        Assert.StartsWith(expected, ParseError(text), StringComparison.Ordinal);
    }

    [Fact]
    public void MalformedLineIsNotEchoedBecauseItMayHoldASecret()
    {
        var error = ParseError("relay_password: hunter2\n");
        Assert.DoesNotContain("hunter2", error, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadReadsAFileWithBomAndCrlf()
    {
        var path = Path.Combine(_dir, "a.conf");
        File.WriteAllBytes(path, [.. Encoding.UTF8.GetPreamble(), .. "from = x@y\r\npoll = 1s"u8]);
        Assert.True(ConfigFile.TryLoad(path, out var file, out var error), error);
        Assert.Equal(path, file.Path);
        Assert.Equal([("from", "x@y"), ("poll", "1s")], file.Entries.Select(e => (e.Name, e.Value)));
    }

    [Fact]
    public void LoadReportsAMissingFile()
    {
        Assert.False(ConfigFile.TryLoad(Path.Combine(_dir, "missing.conf"), out _, out var error));
        Assert.Equal("no such file or directory", error);
    }

    [Fact]
    public void LoadReportsADirectory()
    {
        Assert.False(ConfigFile.TryLoad(_dir, out _, out var error));
        Assert.Equal("is a directory", error);
    }

    [Fact]
    public void LoadReportsInvalidUtf8()
    {
        var path = Path.Combine(_dir, "bad.conf");
        File.WriteAllBytes(path, [.. "from = "u8, 0xff, 0xfe, (byte)'\n']);
        Assert.False(ConfigFile.TryLoad(path, out _, out var error));
        Assert.Equal("not valid UTF-8", error);
    }
}
