using Failmail.Config;

namespace Failmail.Tests.Config;

public class GoFlagSyntaxTests
{
    private static readonly Dictionary<string, bool> Flags = new()
    {
        ["max-wait"] = false,
        ["from"] = false,
        ["ssl"] = true,
    };

    private static IReadOnlyList<string> Normalize(params string[] args) => Normalize(args, []);

    private static IReadOnlyList<string> Normalize(string[] args, HashSet<string> subcommands)
    {
        Assert.True(GoFlagSyntax.TryNormalize(args, Flags, subcommands, out var normalized, out var error), error);
        return normalized;
    }

    private static string Error(params string[] args)
    {
        Assert.False(GoFlagSyntax.TryNormalize(args, Flags, new HashSet<string>(), out _, out var error));
        return error;
    }

    [Theory]
    [InlineData("-max-wait", "5m")]
    [InlineData("--max-wait", "5m")]
    [InlineData("-max-wait=5m")]
    [InlineData("--max-wait=5m")]
    public void EverySpellingBecomesDoubleHyphenEquals(params string[] args)
    {
        Assert.Equal(["--max-wait=5m"], Normalize(args));
    }

    [Theory]
    [InlineData("--ssl=true", "-ssl")]
    [InlineData("--ssl=true", "--ssl=T")]
    [InlineData("--ssl=true", "-ssl=1")]
    [InlineData("--ssl=false", "-ssl=0")]
    [InlineData("--ssl=false", "-ssl=FALSE")]
    [InlineData("--ssl=false", "-ssl=f")]
    public void BoolsGetAnExplicitDotNetValue(string expected, string arg)
    {
        Assert.Equal([expected], Normalize(arg));
    }

    [Fact]
    public void AnEmptyValueIsASeparateEmptyToken()
    {
        Assert.Equal(["--from", ""], Normalize("-from="));
        Assert.Equal(["--from", ""], Normalize("-from", ""));
    }

    [Fact]
    public void TheNextArgumentIsTakenAsTheValueWhateverItLooksLike()
    {
        Assert.Equal(["--from=--ssl", "--max-wait=-1s"], Normalize("-from", "--ssl", "-max-wait", "-1s"));
    }

    [Fact]
    public void TheLastOccurrenceWinsAndOrderIsOtherwiseKept()
    {
        Assert.Equal(["--ssl=true", "--max-wait=2m", "--from=b"], Normalize("-max-wait=1m", "-ssl", "-from=a", "-max-wait", "2m", "-from", "b"));
    }

    [Theory]
    [InlineData("-h")]
    [InlineData("--h")]
    [InlineData("-help")]
    [InlineData("--help")]
    [InlineData("-?")]
    public void HelpSpellingsBecomeDashDashHelp(string arg)
    {
        Assert.Equal(["--help"], Normalize(arg));
    }

    [Fact]
    public void ASubcommandAndEverythingAfterItPassUnchanged()
    {
        Assert.Equal(["--ssl=true", "resend", "-x", "dir"], Normalize(["-ssl", "resend", "-x", "dir"], ["resend"]));
    }

    [Fact]
    public void DoubleDashEndsTheFlags()
    {
        Assert.Equal(["--ssl=true", "--", "-from"], Normalize("-ssl", "--", "-from"));
    }

    [Theory]
    [InlineData("flag provided but not defined: -nope", "-nope=1")]
    [InlineData("flag provided but not defined: --nope", "--nope")]
    [InlineData("flag needs an argument: -from", "-from")]
    [InlineData("bad flag syntax: ---ssl", "---ssl")]
    [InlineData("bad flag syntax: --=x", "--=x")]
    [InlineData("--ssl: invalid boolean value \"yes\" (use true or false)", "-ssl=yes")]
    [InlineData("--ssl: invalid boolean value \"\" (use true or false)", "-ssl=")]
    [InlineData("unexpected argument \"x\" (failmail takes only flags; see --help)", "-ssl", "x")]
    public void GoFlagErrors(string expected, params string[] args)
    {
        Assert.Equal(expected, Error(args));
    }

    [Fact]
    public void AnAliasBecomesItsFlagAndSharesLastWins()
    {
        var aliases = new Dictionary<string, string> { ["wait"] = "max-wait" };
        Assert.True(GoFlagSyntax.TryNormalize(["-max-wait=1m", "--wait", "2m", "-ssl"], Flags, aliases, new HashSet<string>(), out var normalized, out var error), error);
        Assert.Equal(["--max-wait=2m", "--ssl=true"], normalized);
    }

    [Theory]
    [InlineData("flag provided but not defined: --max-wiat (did you mean --max-wait?)", "--max-wiat=1m")]
    [InlineData("flag provided but not defined: -fro (did you mean --from?)", "-fro", "x")]
    [InlineData("flag provided but not defined: --wai (did you mean --max-wait?)", "--wai=1m")]
    [InlineData("flag provided but not defined: --completely-unrelated", "--completely-unrelated")]
    public void AnUnknownFlagNamesTheClosestOne(string expected, params string[] args)
    {
        var aliases = new Dictionary<string, string> { ["wait"] = "max-wait" };
        Assert.False(GoFlagSyntax.TryNormalize(args, Flags, aliases, new HashSet<string>(), out _, out var error));
        Assert.Equal(expected, error);
    }
}
