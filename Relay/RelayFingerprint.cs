using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Failmail.Relay;

// --relay-fingerprint: the hex SHA-256 of the relay's certificate (DER), as
// `openssl x509 -noout -fingerprint -sha256` prints it; colons optional, any case. Several
// pins may be given separated by commas, so a certificate can be rotated without a gap.
internal static class RelayFingerprint
{
    private const int HexLength = SHA256.HashSizeInBytes * 2;

    public static bool TryParse(string value, out IReadOnlyList<byte[]> pins, out string error)
    {
        var parsed = new List<byte[]>();
        pins = parsed;
        error = "";
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries))
        {
            var hex = part.Replace(":", "", StringComparison.Ordinal);
            if (hex.Length != HexLength || !hex.All(char.IsAsciiHexDigit))
            {
                error = $"'{part}' is not a SHA-256 fingerprint (64 hex digits, colons optional)";
                return false;
            }
            parsed.Add(Convert.FromHexString(hex));
        }
        return true;
    }

    public static byte[] Of(X509Certificate certificate) => certificate.GetCertHash(HashAlgorithmName.SHA256);

    // AB:CD:..., the form openssl prints, so the log line can be pasted into the flag.
    public static string Format(byte[] hash) => string.Join(':', hash.Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
}
