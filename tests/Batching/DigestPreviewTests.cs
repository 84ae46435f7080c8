using Failmail.Batching;

namespace Failmail.Tests.Batching;

public sealed class DigestPreviewTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("failmail-preview-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Eml(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text.ReplaceLineEndings("\r\n"));
        return path;
    }

    [Fact]
    public void RendersOneDigestPerBatchDeterministically()
    {
        var paths = new[]
        {
            Eml("1.eml", "To: ops@example.com\nSubject: disk full\nDate: Tue, 01 Jul 2014 12:34:56 -0400\n\nbody 1\n"),
            Eml("2.eml", "To: ops@example.com\nSubject: disk full\nDate: Wed, 02 Jul 2014 12:34:56 -0400\n\nbody 2\n"),
            Eml("3.eml", "To: dev@example.com\nSubject: cpu\nDate: Wed, 02 Jul 2014 12:00:00 -0400\n\ncpu body\n"),
        };
        var options = new FailmailOptions { From = "failmail@host.example" };
        var first = DigestPreview.Render(options, paths);
        Assert.Equal(first, DigestPreview.Render(options, paths));
        Assert.Equal(2, first.Count);
        var ops = first[1];
        Assert.Contains("To: ops@example.com\n", ops, StringComparison.Ordinal);
        Assert.Contains("Subject: [failmail] 2 instances: disk full\n", ops, StringComparison.Ordinal);
        Assert.Contains("Date: Wed, 02 Jul 2014 16:34:56 +0000\n", ops, StringComparison.Ordinal);
        Assert.Contains("Oldest message: Tue, 01 Jul 2014 16:34:56 +0000\n", ops, StringComparison.Ordinal);
        Assert.Contains("Body:\nbody 2\n", ops, StringComparison.Ordinal);
    }

    [Fact]
    public void UsesTheTemplate()
    {
        var template = Eml("t.liquid", "{% for g in groups %}{{ g.count }}x {{ g.subject | replace: \"^(\\w+) \", \"[$1] \" }}\n{% endfor %}");
        var path = Eml("1.eml", "To: ops@example.com\nSubject: disk full\n\nx\n");
        var text = Assert.Single(DigestPreview.Render(new FailmailOptions { Template = template }, new[] { path }));
        Assert.Contains("1x [disk] full\n", text, StringComparison.Ordinal);
    }
}
