using Failmail.Batching;

namespace Failmail.Tests.Batching;

public class DigestTemplateTests
{
    // A template file gets the same strict check as the expressions, with a line number.
    [Fact]
    public void SyntaxErrorNamesFlagFileLineAndColumn()
    {
        var e = Assert.Throws<ExpressionException>(() =>
            DigestTemplate.FromSource("/etc/x.liquid", "{% for g in groups %}\n  {{ g.subject | }}\n{% endfor %}\n"));
        Assert.Equal("--template: /etc/x.liquid: syntax error at line 2, column 18: expected a filter name after '|', found '}}'", e.Message);
    }
}
