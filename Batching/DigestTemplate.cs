using DotLiquid;

namespace Failmail.Batching;

// --template FILE: a DotLiquid template that replaces the digest body (headers are still built
// by MimeKit). Parsed once at start-up. Variables: docs/TEMPLATES.md.
internal sealed class DigestTemplate
{
    private const string Flag = "--template";
    private readonly Template _template;

    private DigestTemplate(string path, Template template)
    {
        Path = path;
        _template = template;
    }

    public string Path { get; }

    // Throws ExpressionException naming --template and the file.
    public static DigestTemplate Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string source;
        try
        {
            source = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ExpressionException(Flag, $"cannot read {path}: {e.Message}", e);
        }
        return FromSource(path, source);
    }

    public static DigestTemplate FromSource(string path, string source)
    {
        Template template;
        try
        {
            template = LiquidSetup.Parse(Flag, source);
        }
        catch (ExpressionException e)
        {
            throw new ExpressionException(Flag, $"{path}: {e.Message[(Flag.Length + 2)..]}", e);
        }
        var digest = new DigestTemplate(path, template);
        try
        {
            digest.Render(Sample());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ExpressionException(Flag, $"{path}: {e.Message}", e);
        }
        return digest;
    }

    public string Render(Hash variables) => LiquidSetup.Render(_template, variables);

    private static Hash Sample()
    {
        var group = new Hash
        {
            ["count"] = 1,
            ["subject"] = "",
            ["key"] = "",
            ["first"] = "",
            ["last"] = "",
            ["body"] = "",
        };
        return new Hash
        {
            ["subject"] = "",
            ["from"] = "",
            ["to"] = "",
            ["date"] = "",
            ["total_messages"] = 1,
            ["unique_messages"] = 1,
            ["oldest"] = "",
            ["newest"] = "",
            ["groups"] = new List<object> { group },
            ["batch_key"] = "",
            ["recipient"] = "",
        };
    }
}
