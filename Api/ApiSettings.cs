using System.Net;
using System.Security.Cryptography.X509Certificates;
using Failmail.Config;

namespace Failmail.Api;

// The API's and console's settings (issue 15), parsed and checked once: who may call
// (loopback only, or a bearer token from --http-token-file), TLS (--http-tls-cert/-key),
// and where history and silences live.
internal sealed record ApiSettings(
    bool LoopbackOnly,
    string? Token,
    X509Certificate2? Certificate,
    string HistoryDir,
    int HistorySize,
    string SilencesFile,
    string FailDir)
{
    // The problems FailmailServices would throw on, all at once, for OptionsValidator.
    public static List<string> Problems(FailmailOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (options.HistorySize < 1)
        {
            problems.Add($"--history-size must be at least 1 (got {options.HistorySize})");
        }
        if (options.BindHttp.Length == 0)
        {
            return problems;
        }
        if (!IsLoopback(options.BindHttp) && options.HttpTokenFile.Length == 0)
        {
            problems.Add($"--bind-http {options.BindHttp} is not a loopback address: the API and console need a bearer token; give one with --http-token-file");
        }
        if ((options.HttpTlsCert.Length == 0) != (options.HttpTlsKey.Length == 0))
        {
            problems.Add("--http-tls-cert and --http-tls-key go together");
        }
        return problems;
    }

    // Throws ArgumentException with every problem when the options are not usable, and
    // IOException naming the flag when the token file or the certificate cannot be read
    // (files are read here, at start-up, not by OptionsValidator).
    public static ApiSettings From(FailmailOptions options)
    {
        var problems = Problems(options);
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", problems));
        }
        string? token = null;
        if (options.HttpTokenFile.Length > 0)
        {
            token = ReadToken(options.HttpTokenFile, out var tokenProblem) ?? throw new IOException(tokenProblem);
        }
        X509Certificate2? certificate = null;
        if (options.BindHttp.Length > 0 && options.HttpTlsCert.Length > 0)
        {
            certificate = LoadCertificate(options, out var certificateProblem) ?? throw new IOException(certificateProblem);
        }
        return new ApiSettings(options.BindHttp.Length > 0 && IsLoopback(options.BindHttp), token, certificate,
            options.MemoryStore ? "" : options.HistoryDir, Math.Max(1, options.HistorySize), options.SilencesFile, options.FailDir);
    }

    // localhost, 127.0.0.0/8 and ::1; an empty host (":8025") listens everywhere.
    public static bool IsLoopback(string bindHttp)
    {
        try
        {
            var endpoint = BindAddress.Resolve("--bind-http", bindHttp);
            return IPAddress.IsLoopback(endpoint.Address);
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static string? ReadToken(string path, out string? problem)
    {
        problem = null;
        try
        {
            var token = File.ReadLines(path).FirstOrDefault()?.Trim() ?? "";
            if (token.Length < 16)
            {
                problem = $"--http-token-file {path}: the token (its first line) must be at least 16 characters";
                return null;
            }
            return token;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"--http-token-file {path}: {e.Message}";
            return null;
        }
    }

    private static X509Certificate2? LoadCertificate(FailmailOptions options, out string? problem)
    {
        problem = null;
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(options.HttpTlsCert, options.HttpTlsKey);
            // An ephemeral PEM key cannot serve TLS on every platform: export and re-import.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            problem = $"--http-tls-cert/--http-tls-key: {e.Message}";
            return null;
        }
    }
}
