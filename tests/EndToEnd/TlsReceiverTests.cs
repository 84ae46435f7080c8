using System.Security.Cryptography.X509Certificates;
using Failmail.Tests.Smtp;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace Failmail.Tests.EndToEnd;

// TLS on the receiving side through the AOT binary, where SMTP sessions run on the shared
// socket threads (inline completions): STARTTLS with AUTH from concurrent clients, and --ssl.
[Trait("Category", "EndToEnd")]
public sealed class TlsReceiverTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static SmtpClient TrustingOnly(string certPath)
    {
        using var expected = X509Certificate2.CreateFromPem(File.ReadAllText(certPath));
        var thumbprint = expected.GetCertHashString();
        return new SmtpClient { ServerCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == thumbprint };
    }

    [Fact]
    public async Task ConcurrentStartTlsClientsAuthenticateAndEveryMessageIsStored()
    {
        using var certificate = new TestCertificate();
        await using var failmail = await FailmailProcess.StartServingAsync(null, "--receiver", "--bind-http", "",
            "--tls-cert", certificate.CertPath, "--tls-key", certificate.KeyPath, "--credentials", "alerts:s3cret");

        var clients = Enumerable.Range(0, 10).Select(c => Task.Run(async () =>
        {
            using var client = TrustingOnly(certificate.CertPath);
            await client.ConnectAsync("127.0.0.1", failmail.SmtpPort, SecureSocketOptions.StartTls).WaitAsync(Patience);
            Assert.True(client.IsSecure);
            await client.AuthenticateAsync("alerts", "s3cret").WaitAsync(Patience);
            for (var i = 0; i < 5; i++)
            {
                await client.SendAsync(PipelineTests.Alert($"tls {c}", $"body {i}", "ops@example.com")).WaitAsync(Patience);
            }
            await client.DisconnectAsync(quit: true).WaitAsync(Patience);
        }));
        await Task.WhenAll(clients).WaitAsync(Patience);
        Assert.Equal(50, IncomingStore.Pending(Path.Combine(failmail.WorkDir, "incoming")));

        // Wrong credentials over TLS: 535, and the server goes on serving.
        using var wrong = TrustingOnly(certificate.CertPath);
        await wrong.ConnectAsync("127.0.0.1", failmail.SmtpPort, SecureSocketOptions.StartTls).WaitAsync(Patience);
        await Assert.ThrowsAsync<AuthenticationException>(() => wrong.AuthenticateAsync("alerts", "guess").WaitAsync(Patience));
        Assert.False(failmail.HasExited);
    }

    [Fact]
    public async Task ImplicitTlsWithSslTakesMail()
    {
        using var certificate = new TestCertificate();
        await using var failmail = await FailmailProcess.StartServingAsync(null, "--receiver", "--bind-http", "",
            "--tls-cert", certificate.CertPath, "--tls-key", certificate.KeyPath, "--ssl");

        using (var client = TrustingOnly(certificate.CertPath))
        {
            await client.ConnectAsync("127.0.0.1", failmail.SmtpPort, SecureSocketOptions.SslOnConnect).WaitAsync(Patience);
            Assert.True(client.IsSecure);
            await client.SendAsync(PipelineTests.Alert("over smtps", "body", "ops@example.com")).WaitAsync(Patience);
            await client.DisconnectAsync(quit: true).WaitAsync(Patience);
        }
        // A plaintext client gets no greeting it can use; the server keeps serving TLS.
        using (var plain = new SmtpClient { Timeout = 3000 })
        {
            await Assert.ThrowsAnyAsync<Exception>(() => plain.ConnectAsync("127.0.0.1", failmail.SmtpPort, SecureSocketOptions.None).WaitAsync(Patience));
        }
        Assert.Equal(1, IncomingStore.Pending(Path.Combine(failmail.WorkDir, "incoming")));
    }
}
