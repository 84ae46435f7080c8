using System.Text;
using Failmail.Outputs.Irc;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Failmail.Tests.Outputs.Irc;

// IrcConnection against a scripted server on 127.0.0.1: the dialogue a real server (ngircd,
// in IrcNgircdTests) cannot be made to show. Flood control is opened wide here; its timing is
// IrcFloodGateTests'.
public class IrcConnectionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static IrcConnection Connect(int port, string userInfo = "bot") =>
        new(Target($"irc://{userInfo}@127.0.0.1:{port}/ops"), Timeout, TimeProvider.System, NullLogger.Instance,
            flood: new IrcFloodGate(TimeProvider.System, burst: 1000));

    private static IrcTarget Target(string url)
    {
        Assert.True(IrcTarget.TryParse(url, out var target, out var error), error);
        return target!;
    }

    [Fact]
    public async Task RegistersJoinsAndPostsEachLineThenWaitsForThePong()
    {
        var post = new TaskCompletionSource<List<string>>();
        await using var server = new ScriptedIrcServer(async s =>
        {
            var nick = await s.ExpectAsync("NICK ");
            Assert.Equal("NICK bot", nick);
            await s.RegisterAndJoinAsync();
            post.SetResult(await s.ReadPostAsync());
            await s.ReadAsync();
        });
        await using var connection = Connect(server.Port);
        await connection.SendAsync(["disk full on web-3", "and\r\nQUIT :x"], CancellationToken.None).WaitAsync(Timeout);
        var lines = await post.Task.WaitAsync(Timeout);
        Assert.Equal(["PRIVMSG #ops :disk full on web-3", "PRIVMSG #ops :and  QUIT :x"], lines);
    }

    [Fact]
    public async Task ALongLineIsSplitIntoSeveralPrivmsgsThatFit()
    {
        var post = new TaskCompletionSource<List<string>>();
        await using var server = new ScriptedIrcServer(async s =>
        {
            await s.RegisterAndJoinAsync();
            post.SetResult(await s.ReadPostAsync());
            await s.ReadAsync();
        });
        await using var connection = Connect(server.Port);
        var text = string.Concat(Enumerable.Repeat("ünïcödé ", 300));
        await connection.SendAsync([text], CancellationToken.None).WaitAsync(Timeout);
        var lines = await post.Task.WaitAsync(Timeout);
        Assert.True(lines.Count > 4);
        Assert.All(lines, l => Assert.True(Encoding.UTF8.GetByteCount(l) + 2 <= IrcText.MaxLine));
        Assert.Equal(text.Trim().Replace(" ", "", StringComparison.Ordinal),
            string.Concat(lines.Select(l => l["PRIVMSG #ops :".Length..])).Replace(" ", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ATakenNickGetsAnUnderscore()
    {
        await using var server = new ScriptedIrcServer(async s =>
        {
            await s.ExpectAsync("USER ");
            await s.SendAsync(":s 433 * bot :Nickname already in use");
            Assert.Equal("NICK bot_", await s.ExpectAsync("NICK "));
            await s.SendAsync(":s 001 bot_ :Welcome", ":s 376 bot_ :End of MOTD");
            await s.ExpectAsync("JOIN ");
            await s.SendAsync(":s 366 bot_ #ops :End");
            await s.ReadPostAsync();
            await s.ReadAsync();
        });
        await using var connection = Connect(server.Port);
        await connection.SendAsync(["x"], CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal("bot_", connection.Nick);
    }

    [Fact]
    public async Task SaslPlainSendsTheAccountAndPasswordBeforeRegistering()
    {
        await using var server = new ScriptedIrcServer(async s =>
        {
            Assert.Equal("CAP REQ :sasl", await s.ReadAsync());
            await s.ExpectAsync("USER ");
            await s.SendAsync(":s CAP * ACK :sasl");
            Assert.Equal("AUTHENTICATE PLAIN", await s.ReadAsync());
            await s.SendAsync("AUTHENTICATE +");
            var auth = await s.ExpectAsync("AUTHENTICATE ");
            Assert.Equal("bot\0bot\0pa ss", Encoding.UTF8.GetString(Convert.FromBase64String(auth["AUTHENTICATE ".Length..])));
            await s.SendAsync(":s 900 bot bot!u@h bot :You are now logged in", ":s 903 bot :SASL authentication successful");
            Assert.Equal("CAP END", await s.ReadAsync());
            await s.SendAsync(":s 001 bot :Welcome", ":s 376 bot :End of MOTD");
            await s.ExpectAsync("JOIN ");
            await s.SendAsync(":s 366 bot #ops :End");
            await s.ReadPostAsync();
            await s.ReadAsync();
        });
        await using var connection = Connect(server.Port, "bot:pa%20ss");
        await connection.SendAsync(["x"], CancellationToken.None).WaitAsync(Timeout);
    }

    [Fact]
    public async Task AFailedSaslLoginIsAnIrcException()
    {
        await using var server = new ScriptedIrcServer(async s =>
        {
            await s.ExpectAsync("USER ");
            await s.SendAsync(":s CAP * ACK :sasl");
            await s.ExpectAsync("AUTHENTICATE PLAIN");
            await s.SendAsync("AUTHENTICATE +");
            await s.ExpectAsync("AUTHENTICATE ");
            await s.SendAsync(":s 904 bot :SASL authentication failed");
            await s.ReadAsync();
        });
        await using var connection = Connect(server.Port, "bot:wrong");
        var e = await Assert.ThrowsAsync<IrcException>(() => connection.SendAsync(["x"], CancellationToken.None).WaitAsync(Timeout));
        Assert.Contains("904", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AChannelThatRefusesOurLinesIsAnIrcException()
    {
        await using var server = new ScriptedIrcServer(async s =>
        {
            await s.RegisterAndJoinAsync();
            await s.ExpectAsync("PRIVMSG ");
            await s.SendAsync(":s 404 bot #ops :Cannot send to channel");
            await s.ReadAsync();
        });
        await using var connection = Connect(server.Port);
        var e = await Assert.ThrowsAsync<IrcException>(() => connection.SendAsync(["x"], CancellationToken.None).WaitAsync(Timeout));
        Assert.Contains("Cannot send to channel", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABannedJoinIsAnIrcException()
    {
        await using var server = new ScriptedIrcServer(async s =>
        {
            await s.ExpectAsync("USER ");
            await s.SendAsync(":s 001 bot :Welcome", ":s 376 bot :End");
            await s.ExpectAsync("JOIN ");
            await s.SendAsync(":s 474 bot #ops :Cannot join channel (+b)");
            await s.ReadAsync();
        });
        await using var connection = Connect(server.Port);
        var e = await Assert.ThrowsAsync<IrcException>(() => connection.SendAsync(["x"], CancellationToken.None).WaitAsync(Timeout));
        Assert.Contains("474", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerPingsAreAnsweredWhileIdleAndAClosedLinkIsOpenedAgain()
    {
        var pong = new TaskCompletionSource<string>();
        await using var server = new ScriptedIrcServer(async s =>
        {
            await s.RegisterAndJoinAsync();
            await s.ReadPostAsync();
            if (!pong.Task.IsCompleted)
            {
                // The first connection: ping while idle, then hang up.
                await s.SendAsync("PING :idle-check");
                pong.SetResult(await s.ExpectAsync("PONG"));
                return;
            }
            await s.ReadPostAsync();
            await s.ReadAsync();
        });
        await using var connection = Connect(server.Port);
        await connection.SendAsync(["first"], CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal("PONG :idle-check", await pong.Task.WaitAsync(Timeout));
        // The server has closed the first link; the next post opens a new one (bounded tries:
        // the close may be seen only when the first write of the post fails).
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await connection.SendAsync(["second"], CancellationToken.None).WaitAsync(Timeout);
                break;
            }
            catch (Exception e) when (e is IOException or IrcException && attempt < 2)
            {
            }
        }
        Assert.Equal(2, server.Connections);
        Assert.Contains("PRIVMSG #ops :second", server.Received);
    }

    [Fact]
    public async Task AHostileServersOverlongLinesAndPingTokensDoNotBreakTheLink()
    {
        var post = new TaskCompletionSource<List<string>>();
        var pong = new TaskCompletionSource<string>();
        await using var server = new ScriptedIrcServer(async s =>
        {
            await s.ExpectAsync("USER ");
            // 20,000 bytes without a line end, then a PING whose token is far over a line.
            await s.SendAsync(new string('x', 20_000) + " junk", "PING :" + new string('t', 5_000), ":s 001 bot :Welcome", ":s 422 bot :No MOTD");
            pong.SetResult(await s.ExpectAsync("PONG"));
            await s.ExpectAsync("JOIN ");
            await s.SendAsync(":s 366 bot #ops :End");
            post.SetResult(await s.ReadPostAsync());
            await s.ReadAsync();
        });
        await using var connection = Connect(server.Port);
        await connection.SendAsync(["still posted"], CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(["PRIVMSG #ops :still posted"], await post.Task.WaitAsync(Timeout));
        var answer = await pong.Task.WaitAsync(Timeout);
        Assert.True(Encoding.UTF8.GetByteCount(answer) + 2 <= IrcText.MaxLine, $"{answer.Length} bytes");
    }

    [Fact]
    public async Task ASilentServerTimesOut()
    {
        await using var server = new ScriptedIrcServer(async s =>
        {
            // Reads and never answers, until the client gives up and hangs up.
            for (var i = 0; i < 10; i++)
            {
                await s.ReadAsync();
            }
        });
        await using var connection = new IrcConnection(Target($"irc://bot@127.0.0.1:{server.Port}/ops"), TimeSpan.FromMilliseconds(300), TimeProvider.System, NullLogger.Instance);
        var e = await Assert.ThrowsAsync<IrcException>(() => connection.SendAsync(["x"], CancellationToken.None).WaitAsync(Timeout));
        Assert.Contains("within", e.Message, StringComparison.Ordinal);
    }
}
