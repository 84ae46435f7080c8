namespace Failmail.Rewriting;

// Plain envelope addresses as strings: "local@domain", a bare local name, or "" (the null
// sender). Domains compare case-insensitively; local parts keep their case.
internal static class MailAddress
{
    public static string LocalPart(string address)
    {
        var at = address.LastIndexOf('@');
        return at < 0 ? address : address[..at];
    }

    // The domain without the '@', or "" for a bare local name.
    public static string Domain(string address)
    {
        var at = address.LastIndexOf('@');
        return at < 0 ? "" : address[(at + 1)..];
    }

    public static bool IsQualified(string address) => address.LastIndexOf('@') >= 0;

    public static string WithDomain(string address, string domain) => LocalPart(address) + "@" + domain;

    public static bool DomainEquals(string a, string b) => string.Equals(a.TrimEnd('.'), b.TrimEnd('.'), StringComparison.OrdinalIgnoreCase);
}
