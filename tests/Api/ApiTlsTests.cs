using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Failmail.Api;
using Failmail.History;
using Failmail.Hosting;
using Failmail.Silences;
using Failmail.Tests.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Failmail.Tests.Api;

// --http-tls-cert/--http-tls-key: the same routes over HTTPS, with a certificate made here.
public sealed class ApiTlsTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task TheApiAndMetricsAreServedOverTls()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        using var certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
        var metrics = new FailmailMetrics();
        var time = TimeProvider.System;
        var api = new ApiServer(new ApiSettings(true, null, certificate, "", 10, "", ""), metrics, null, null, new DigestHistory("", 10), new SilenceBook("", time), time);
        await using var server = await HttpStatsServer.StartAsync("127.0.0.1:0", metrics, NullLoggerFactory.Instance, time, api: api, certificate: certificate).WaitAsync(Wait);
        Assert.NotNull(server);
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString(),
        };
        using var client = new HttpClient(handler);

        var silences = await client.GetStringAsync(new Uri($"https://127.0.0.1:{server.Port}/api/v1/silences")).WaitAsync(Wait);
        using var metricsResponse = await client.GetAsync(new Uri($"https://127.0.0.1:{server.Port}/metrics")).WaitAsync(Wait);

        Assert.Equal("[]", silences);
        Assert.Equal(HttpStatusCode.OK, metricsResponse.StatusCode);
        using var plain = new HttpClient();
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync(new Uri($"http://127.0.0.1:{server.Port}/api/v1/silences")).WaitAsync(Wait));
    }
}
