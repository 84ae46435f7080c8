using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Net.Sockets;
using System.Text;
using Failmail.Outputs.Irc;
using Failmail.Tests.EndToEnd;
using Failmail.Tests.Relay;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Failmail.Tests.Outputs.Irc;

// IrcConnection against a real IRC server (Debian's ngircd, started on 127.0.0.1), read by a
// second client that sits in the channel, as a person would.
[Trait("Category", "EndToEnd")]
public sealed class IrcNgircdTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly string _dir = TestPaths.NewTempDir();
    private Ngircd? _server;

    public async Task InitializeAsync() => _server = await Ngircd.StartAsync(_dir);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        Directory.Delete(_dir, recursive: true);
    }

    private IrcConnection Connect(string nick) =>
        new(Target($"irc://{nick}@127.0.0.1:{_server!.Port}/ops"), Timeout, TimeProvider.System, NullLogger.Instance,
            flood: new IrcFloodGate(TimeProvider.System, burst: 100));

    private static IrcTarget Target(string url)
    {
        Assert.True(IrcTarget.TryParse(url, out var target, out var error), error);
        return target!;
    }

    [Fact]
    public async Task LinesReachAPersonInTheChannelAsTheyWereSentAndHostileBreaksStayInOneLine()
    {
        await using var person = await ChannelMember.JoinAsync(_server!.Port, "person", "#ops");
        await using var connection = Connect("alerts");
        await connection.SendAsync(["storm: 1,204 messages for [db] — digest follows", "evil\r\nQUIT :bye"], CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(":alerts!", (await person.NextPrivmsgAsync()).Prefix[..8]);
        var second = await person.NextPrivmsgAsync();
        Assert.Equal("evil  QUIT :bye", second.Text);
        // The same connection posts again: no second JOIN is seen in the channel.
        await connection.SendAsync(["still happening: 12 more"], CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal("still happening: 12 more", (await person.NextPrivmsgAsync()).Text);
        Assert.Equal(1, person.JoinsSeen("alerts"));
    }

    [Fact]
    public async Task AKilledConnectionIsOpenedAgainForTheNextPost()
    {
        await using var person = await ChannelMember.JoinAsync(_server!.Port, "person", "#ops");
        await using var connection = Connect("alerts");
        await connection.SendAsync(["first"], CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal("first", (await person.NextPrivmsgAsync()).Text);
        // An IRC operator (configured in Ngircd) disconnects us, as a netsplit or a kill would.
        await person.SendAsync("OPER failmail-oper failmail-oper-password");
        await person.SendAsync("KILL alerts :test");
        await person.WaitForQuitAsync("alerts");
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await connection.SendAsync(["second"], CancellationToken.None).WaitAsync(Timeout);
                break;
            }
            catch (Exception e) when (e is IOException or IrcException && attempt < 2)
            {
                // The kill may be seen only when this post's write or PING fails.
            }
        }
        Assert.Equal("second", (await person.NextPrivmsgAsync()).Text);
        Assert.Equal(2, person.JoinsSeen("alerts"));
    }

    [Fact]
    public async Task IrcsPostsOverTlsCheckedAgainstTheServersCa()
    {
        using var certificates = new TestCertificates();
        var tlsDir = Path.Combine(_dir, "tls");
        await using var server = await Ngircd.StartAsync(tlsDir, certificates.Server);
        await using var person = await ChannelMember.JoinAsync(server.Port, "person", "#ops");
        RemoteCertificateValidationCallback trustTestCa = (_, certificate, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(certificates.Ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return certificate is not null && chain.Build(new X509Certificate2(certificate));
        };
        await using var connection = new IrcConnection(Target($"ircs://alerts@127.0.0.1:{server.TlsPort}/ops"), Timeout, TimeProvider.System, NullLogger.Instance, trustTestCa);
        await connection.SendAsync(["over tls"], CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal("over tls", (await person.NextPrivmsgAsync()).Text);

        // Without the CA the server is not trusted, and nothing is posted.
        await using var untrusting = new IrcConnection(Target($"ircs://other@127.0.0.1:{server.TlsPort}/ops"), Timeout, TimeProvider.System, NullLogger.Instance);
        await Assert.ThrowsAsync<AuthenticationException>(() => untrusting.SendAsync(["never"], CancellationToken.None).WaitAsync(Timeout));
    }

    // A plain IRC client in the channel that records what it sees.
    private sealed class ChannelMember : IAsyncDisposable
    {
        private readonly TcpClient _client;
        private readonly StreamReader _reader;
        private readonly Stream _stream;
        private readonly Dictionary<string, int> _joins = [];

        private ChannelMember(TcpClient client)
        {
            _client = client;
            _stream = client.GetStream();
            _reader = new StreamReader(_stream, new UTF8Encoding(false));
        }

        public static async Task<ChannelMember> JoinAsync(int port, string nick, string channel)
        {
            var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port).WaitAsync(Timeout);
            var member = new ChannelMember(client);
            await member.SendAsync($"NICK {nick}", $"USER {nick} 0 * :test", $"JOIN {channel}");
            await member.ReadUntilAsync(m => m.Command == "366");
            return member;
        }

        public int JoinsSeen(string nick) => _joins.GetValueOrDefault(nick);

        public async Task SendAsync(params string[] lines)
        {
            await _stream.WriteAsync(Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\r\n"))));
            await _stream.FlushAsync();
        }

        public async Task<(string Prefix, string Text)> NextPrivmsgAsync()
        {
            var message = await ReadUntilAsync(m => m.Command == "PRIVMSG");
            return (":" + message.Prefix, message.Last);
        }

        public Task WaitForQuitAsync(string nick) =>
            ReadUntilAsync(m => m.Command == "QUIT" && m.Prefix.StartsWith(nick + "!", StringComparison.Ordinal));

        private async Task<IrcMessage> ReadUntilAsync(Func<IrcMessage, bool> match)
        {
            for (var i = 0; i < 500; i++)
            {
                var line = await _reader.ReadLineAsync().WaitAsync(Timeout) ?? throw new IOException("ngircd closed the connection");
                if (!IrcMessage.TryParse(line, out var message))
                {
                    continue;
                }
                if (message.Command == "PING")
                {
                    await SendAsync("PONG :" + message.Last);
                }
                if (message.Command == "JOIN")
                {
                    var who = message.Prefix.Split('!')[0];
                    _joins[who] = _joins.GetValueOrDefault(who) + 1;
                }
                if (match(message))
                {
                    return message;
                }
            }
            throw new InvalidOperationException("no such line from ngircd");
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await SendAsync("QUIT");
            }
            catch (IOException)
            {
            }
            _reader.Dispose();
            _client.Dispose();
        }
    }
}
