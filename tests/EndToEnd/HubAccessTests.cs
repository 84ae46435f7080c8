using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;

namespace Failmail.Tests.EndToEnd;

// Issue 16 through the AOT binary: bare local names from this host, --local-domains through
// the aliases, and --allow-from (554 at connect, or AUTH only with --credentials). A client
// outside the loopback range is this host's own non-loopback address as the socket's source:
// failmail still listens on 127.0.0.1 only.
[Trait("Category", "EndToEnd")]
public sealed class HubAccessTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task BareNamesFromThisHostAreQualifiedAndLocalDomainsGoThroughTheAliases()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var aliases = Path.Combine(dir, "aliases");
            await File.WriteAllTextAsync(aliases, "root: ops@example.net\n");
            await using var sink = await SmtpSink.StartAsync(Path.Combine(dir, "sink"));
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", $"127.0.0.1:{sink.Port}", "--bind-http", "", "--relay-all", "--from", "failmail@example.com",
                "--qualify-domain", "host1.example.com", "--local-domains", "web-3", "--aliases", aliases,
                "--wait-period", "10m", "--max-wait", "10m");

            await using (var session = await RawSmtpSession.ConnectAsync(failmail.SmtpPort))
            {
                await session.ExpectAsync("EHLO web-3", "250");
                await session.ExpectAsync("MAIL FROM:<cron>", "250");
                await session.ExpectAsync("RCPT TO:<root>", "250");
                await session.ExpectAsync("RCPT TO:<root@localhost>", "250");
                await session.ExpectAsync("RCPT TO:<root@web-3>", "250");
                await session.ExpectAsync("RCPT TO:<backup@web-3>", "250");
                Assert.StartsWith("250", await session.DataAsync("Subject: bare\r\n\r\nout\r\n"), StringComparison.Ordinal);
                await session.ExpectAsync("QUIT", "221");
            }

            await failmail.WaitUntilAsync(() => sink.Messages().Count >= 1, Patience, "the relayed copy at smtp-sink");
            var copy = Assert.Single(sink.Messages());
            Assert.Equal("cron@host1.example.com", copy.MailFrom);
            // root, root@localhost and root@web-3 are one local root: its alias, once.
            Assert.Equal(["backup@host1.example.com", "ops@example.net"], copy.Recipients.Order(StringComparer.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task ClientsOutsideAllowFromAreRefusedAtConnectOrMustAuth()
    {
        var outside = NonLoopbackAddress();
        var dir = TestPaths.NewTempDir();
        try
        {
            await using (var closed = await FailmailProcess.StartServingAsync(Path.Combine(dir, "closed"),
                "--relay-addr", "debug", "--bind-http", "", "--allow-from", "198.51.100.0/24"))
            {
                using var refused = await ConnectFromAsync(outside, closed.SmtpPort);
                Assert.StartsWith("554 5.7.1 ", await ReadLineAsync(refused), StringComparison.Ordinal);
                await closed.WaitUntilAsync(() => closed.Stderr.Contains($"client {outside} refused: not in --allow-from", StringComparison.Ordinal),
                    Patience, "the refusal in the log");
                // Loopback is always in: local cron keeps working.
                await using var local = await RawSmtpSession.ConnectAsync(closed.SmtpPort);
                await local.ExpectAsync("MAIL FROM:<a@example.com>", "250");
            }

            await using var gated = await FailmailProcess.StartServingAsync(Path.Combine(dir, "gated"),
                "--relay-addr", "debug", "--bind-http", "", "--allow-from", "198.51.100.0/24",
                "--credentials", "hub:secret", "--allow-unencrypted-auth");
            using var remote = await ConnectFromAsync(outside, gated.SmtpPort);
            Assert.StartsWith("220 ", await ReadLineAsync(remote), StringComparison.Ordinal);
            Assert.StartsWith("250 ", await CommandAsync(remote, "HELO spoke"), StringComparison.Ordinal);
            Assert.StartsWith("530 ", await CommandAsync(remote, "MAIL FROM:<a@example.com>"), StringComparison.Ordinal);
            var plain = Convert.ToBase64String(Encoding.ASCII.GetBytes("\0hub\0secret"));
            Assert.StartsWith("235 ", await CommandAsync(remote, "AUTH PLAIN " + plain), StringComparison.Ordinal);
            Assert.StartsWith("250 ", await CommandAsync(remote, "MAIL FROM:<a@example.com>"), StringComparison.Ordinal);
            // A client in --allow-from (here loopback) sends without AUTH.
            await using var local2 = await RawSmtpSession.ConnectAsync(gated.SmtpPort);
            await local2.ExpectAsync("MAIL FROM:<a@example.com>", "250");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // This host's first IPv4 address outside 127/8: as a source address it reaches 127.0.0.1.
    private static IPAddress NonLoopbackAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .First(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));

    private static async Task<Socket> ConnectFromAsync(IPAddress source, int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(source, 0));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).WaitAsync(Patience);
        return socket;
    }

    private static async Task<string> CommandAsync(Socket socket, string line)
    {
        await socket.SendAsync(Encoding.ASCII.GetBytes(line + "\r\n"), SocketFlags.None).WaitAsync(Patience);
        return await ReadLineAsync(socket);
    }

    // One reply line, read a byte at a time so nothing past it is taken.
    private static async Task<string> ReadLineAsync(Socket socket)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (line.Length < 1000)
        {
            var n = await socket.ReceiveAsync(one, SocketFlags.None).WaitAsync(Patience);
            if (n == 0 || one[0] == '\n')
            {
                break;
            }
            line.Append((char)one[0]);
        }
        return line.ToString().TrimEnd('\r');
    }
}
