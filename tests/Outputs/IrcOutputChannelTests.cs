using Failmail.Outputs;
using Failmail.Tests.Outputs.Irc;
using Microsoft.Extensions.Logging.Abstractions;

namespace Failmail.Tests.Outputs;

// The irc:// output against a scripted IRC server on 127.0.0.1: a digest is a few PRIVMSG
// lines in the channel; a server that goes away is a retry, not a lost post.
public class IrcOutputChannelTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ADigestIsAFewPrivmsgLinesInTheChannel()
    {
        var post = new TaskCompletionSource<List<string>>();
        await using var server = new ScriptedIrcServer(async s =>
        {
            await s.RegisterAndJoinAsync();
            post.SetResult(await s.ReadPostAsync());
            await s.ReadAsync();
        });
        await using var channel = new IrcOutputChannel(OutputTestKit.Target($"irc://bot@127.0.0.1:{server.Port}/ops"), Timeout, TimeProvider.System, NullLogger.Instance);
        var result = await channel.DeliverAsync(OutputTestKit.Entry(OutputTestKit.Summary(groups: 2)), CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(OutputOutcome.Sent, result.Outcome);
        var lines = await post.Task.WaitAsync(Timeout);
        Assert.Equal(3, lines.Count);
        Assert.StartsWith("PRIVMSG #ops :failmail: 4 messages in 2 groups: disk full on db0 and more", lines[0], StringComparison.Ordinal);
        Assert.Equal("PRIVMSG #ops :- 2× disk full on db1", lines[2]);
    }

    [Fact]
    public async Task AServerThatHangsUpIsARetry()
    {
        await using var server = new ScriptedIrcServer(async s => await s.ExpectAsync("USER "));
        await using var channel = new IrcOutputChannel(OutputTestKit.Target($"irc://bot@127.0.0.1:{server.Port}/ops"), Timeout, TimeProvider.System, NullLogger.Instance);
        var result = await channel.DeliverAsync(OutputTestKit.Entry(), CancellationToken.None).WaitAsync(Timeout * 2);
        Assert.Equal(OutputOutcome.Retry, result.Outcome);
    }
}
