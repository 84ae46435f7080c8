namespace Failmail.Outputs;

// A target URL's query, read as written: values are percent-decoded but a '+' stays a '+'
// (Twilio's `from=+1555...` is a phone number, not a space). The pairs failmail does not take
// for itself go back into the endpoint exactly as they were written.
internal sealed class Query
{
    private readonly List<(string Name, string Value, string Raw)> _pairs = [];

    public static Query Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var query = new Query();
        foreach (var pair in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? pair : pair[..eq];
            var value = eq < 0 ? "" : pair[(eq + 1)..];
            query._pairs.Add((Uri.UnescapeDataString(name), Uri.UnescapeDataString(value), pair));
        }
        return query;
    }

    // The first value of name, or null.
    public string? Get(string name) => _pairs.FirstOrDefault(p => p.Name == name) is { Raw: not null } p ? p.Value : null;

    public void Remove(string name) => _pairs.RemoveAll(p => p.Name == name);

    public override string ToString() => string.Join('&', _pairs.Select(p => p.Raw));
}
