using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Failmail.Maildir;
using Failmail.Smtp;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Failmail.Tests.Smtp;

// The listener on 127.0.0.1 port 0 against real clients: MailKit, python smtplib, raw sockets.
public class SmtpListenerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private sealed class Server : IAsyncDisposable
    {
        public Server(FailmailOptions options)
        {
            Listener = new SmtpListener(options with { BindAddr = "127.0.0.1:0" }, Store, Sink, Logs, TimeProvider.System);
            Listener.Start();
        }

        public ListLoggerFactory Logs { get; } = new();
        public MemoryMessageStore Store { get; } = new();
        public RecordingSink Sink { get; } = new();
        public SmtpListener Listener { get; }
        public int Port => Listener.LocalEndPoint.Port;

        public async ValueTask DisposeAsync()
        {
            await Listener.DisposeAsync();
            // A connection task that failed unexpectedly logs "connection failed"; none may have.
            Assert.DoesNotContain(Logs.Lines, l => l.Text.Contains("connection failed", StringComparison.Ordinal));
        }
    }

    private static MimeMessage Alert(string subject)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("app@example.com"));
        message.To.Add(MailboxAddress.Parse("ops@example.com"));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = "line one\n.leading dot\nline three" };
        return message;
    }

    private static string Stored(Server server, ReceivedMessage message)
    {
        using var reader = new StreamReader(server.Store.OpenRead(message.Id), Encoding.UTF8);
        return reader.ReadToEnd();
    }

    [Fact]
    public async Task MailKitSendsOverPlainTcp()
    {
        await using var server = new Server(new FailmailOptions());
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None).WaitAsync(Wait);
        Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.Pipelining));
        Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.Size));
        Assert.Equal(10 * 1024 * 1024, (int)client.MaxSize);
        await client.SendAsync(Alert("first")).WaitAsync(Wait);
        await client.SendAsync(Alert("second")).WaitAsync(Wait);
        await client.DisconnectAsync(true).WaitAsync(Wait);

        Assert.Equal(2, server.Sink.Messages.Count);
        var stored = Stored(server, server.Sink.Messages.First());
        Assert.Contains("Subject: first", stored);
        Assert.Contains("\r\n.leading dot\r\n", stored);
        Assert.Equal(2, server.Listener.MessagesAccepted);
    }

    [Theory]
    [InlineData(false, "PLAIN")]
    [InlineData(false, "LOGIN")]
    [InlineData(true, "PLAIN")]
    [InlineData(true, "LOGIN")]
    public async Task MailKitAuthenticatesOverStartTlsAndImplicitTls(bool implicitTls, string mechanism)
    {
        using var cert = new TestCertificate();
        await using var server = new Server(new FailmailOptions
        {
            TlsCert = cert.CertPath,
            TlsKey = cert.KeyPath,
            Ssl = implicitTls,
            Credentials = "alert:s3cret:with colon",
        });
        using var client = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true };
        await client.ConnectAsync("127.0.0.1", server.Port, implicitTls ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTls).WaitAsync(Wait);
        Assert.True(client.IsSecure);
        Assert.Contains(mechanism, client.AuthenticationMechanisms);
        client.AuthenticationMechanisms.RemoveWhere(m => m != mechanism);
        await client.AuthenticateAsync("alert", "s3cret:with colon").WaitAsync(Wait);
        await client.SendAsync(Alert("secure")).WaitAsync(Wait);
        await client.DisconnectAsync(true).WaitAsync(Wait);
        Assert.Single(server.Sink.Messages);
    }

    [Fact]
    public async Task MailKitWithWrongPasswordGets535()
    {
        await using var server = new Server(new FailmailOptions { Credentials = "u:p", AllowUnencryptedAuth = true });
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None).WaitAsync(Wait);
        client.AuthenticationMechanisms.RemoveWhere(m => m != "PLAIN");
        var e = await Assert.ThrowsAsync<AuthenticationException>(() => client.AuthenticateAsync("u", "wrong").WaitAsync(Wait));
        Assert.Contains("invalid", e.Message, StringComparison.OrdinalIgnoreCase);
        // MailKit maps the 530 to its own exception type.
        var refused = await Assert.ThrowsAsync<MailKit.ServiceNotAuthenticatedException>(() => client.SendAsync(Alert("x")).WaitAsync(Wait));
        Assert.Contains("5.7.0", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "EndToEnd")]
    public async Task PythonSmtplibSendsAMessage()
    {
        await using var server = new Server(new FailmailOptions());
        var script = """
            import smtplib, sys
            s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
            code, _ = s.ehlo("python.example")
            assert code == 250, code
            assert s.has_extn("size") and s.has_extn("8bitmime") and s.has_extn("smtputf8")
            s.sendmail("py@example.com", ["a@example.com", "b@example.com"],
                       "Subject: from python\r\n\r\nhello\r\n.dot line\r\n")
            print(s.noop()[0])
            s.quit()
            """;
        var (exit, output) = await RunAsync("python3", ["-c", script, server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(exit == 0, output);
        Assert.Contains("250", output);
        var message = Assert.Single(server.Sink.Messages);
        Assert.Equal(["a@example.com", "b@example.com"], message.Envelope.Recipients);
        Assert.Equal("Subject: from python\r\n\r\nhello\r\n.dot line\r\n", Stored(server, message));
    }

    [Fact]
    [Trait("Category", "EndToEnd")]
    public async Task SmtpSourceDeliversTwoThousandMessagesOverTwentySessions()
    {
        await using var server = new Server(new FailmailOptions());
        var (exit, output) = await RunAsync("/usr/sbin/smtp-source", ["-s", "20", "-m", "2000", "127.0.0.1:" + server.Port], TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, output);
        Assert.Equal(2000, server.Store.LoadPending().Count);
        Assert.Equal(2000, server.Listener.MessagesAccepted);
    }

    private static async Task<(int Exit, string Output)> RunAsync(string file, string[] args, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = EndToEnd.ChildProcesses.Start(info);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(timeout ?? Wait);
            return (process.ExitCode, await stdout.WaitAsync(Wait) + await stderr.WaitAsync(Wait));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
