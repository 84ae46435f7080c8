using DotLiquid;
using Failmail.Batching;

namespace Failmail.Tests.Batching;

public class LiquidSyntaxTests
{
    // Every form the docs, the tests and the Go translator use, and the Liquid they rely on.
    private static readonly string[] ValidSources =
    [
        "",
        "plain text, no markup",
        "{{ headers[\"x\"] }}",
        "{{ headers['X-Team'] | upcase }}",
        "{{ headers.subject | match: \"^(this|that)\" }}",
        "{{ subject | replace: \"^(this|that)\", \"*\" }}",
        "{{ headers[\"subject\"] | replace: \"\\[\\w+\\] \", \"\" | match: \"^\\w+\" }}",
        "{{ headers[\"s\"] | match: 'a\"b' }}",
        "{{ subject | match: headers[\"x-pattern\"] }}",
        "{{ envelope.to | join: \",\" }} {{ envelope.from }}",
        "{{ body | truncate: 20 }}",
        "{{ g.subject | match: g.key }}",
        "{{ x | date: format: \"%Y\" }}",
        "{{ \"text\" | upcase }}",
        "{{ -1.5 | plus: 2 }}",
        "{{ a[0].b[c.d][\"e\"] }}",
        "{{ list.empty? }}",
        "{{ a-b_c }}",
        "{{- subject -}}",
        "{{- -}}",
        "{{}}",
        "{{ \"}}\" }}",
        "a } b %} c",
        "{% if headers.subject contains \"disk\" %}x{% endif %}",
        "{% for g in groups %}{{ g.count }}{% endfor %}",
        "{% for i in (1..3) %}{{ i }}{% endfor %}",
        "{% for i in (1..n) %}{% endfor %}",
        "{% capture _fm0 %}{% raw %}{{ [ ' \" {%{% endraw %}{% endcapture %}{{ \"axb\" | replace: \"x\", _fm0 }}",
        "{% comment %}{{ broken [ {% endcomment %}ok",
        "{%- raw -%}{{{%- endraw -%}",
        "line 1\n{{ headers[\"a\"] }}\n{% if x %}\n{{ y }}\n{% endif %}\n",
    ];

    public static TheoryData<string> Valid => new(ValidSources);

    [Theory]
    [MemberData(nameof(Valid))]
    public void WellFormedTemplatesPass(string source)
    {
        Assert.Null(LiquidSyntax.Check(source));
    }

    // The holes DotLiquid parses without a word (each rendered "" for every message), and
    // the errors it does see, now with a position.
    [Theory]
    [InlineData("{{ headers[\"x\" }}", "syntax error at column 16: expected ']' to close '[' at column 11, found '}}'")]
    [InlineData("{{ headers[\"x\"] | }}", "syntax error at column 19: expected a filter name after '|', found '}}'")]
    [InlineData("{{ headers[\"x\"] }", "syntax error at column 1: '{{' is never closed by '}}'")]
    [InlineData("{{ headers[\"x] }}", "syntax error at column 12: unterminated string")]
    [InlineData("{{ subject subject }}", "syntax error at column 12: expected '|' or '}}', found 's'")]
    [InlineData("{{ subject | match \"x\" }}", "syntax error at column 20: expected '|' or '}}', found '\"'")]
    [InlineData("{{ subject | match: }}", "syntax error at column 21: expected a value, found '}}'")]
    [InlineData("{{ subject | replace: \"a\", }}", "syntax error at column 28: expected a value, found '}}'")]
    [InlineData("{{ headers. }}", "syntax error at column 12: expected a name after '.', found ' '")]
    [InlineData("{{ headers[] }}", "syntax error at column 12: expected a value, found ']'")]
    [InlineData("{{ ] }}", "syntax error at column 4: expected a value, found ']'")]
    [InlineData("x {{ (1..) }}", "syntax error at column 10: expected a value, found ')'")]
    [InlineData("{% if headers[\"a\" %}x{% endif %}", "syntax error at column 19: '[' at column 14 is never closed")]
    [InlineData("{% if a) %}x{% endif %}", "syntax error at column 8: ')' closes nothing")]
    [InlineData("{% if x %}", null)]
    [InlineData("{% raw %}{{", "syntax error at column 1: '{% raw %}' is never closed by '{% endraw %}'")]
    [InlineData("a\nb {{ g.count | }}", "syntax error at line 2, column 16: expected a filter name after '|', found '}}'")]
    public void MalformedMarkupIsReportedWithItsPosition(string source, string? expected)
    {
        Assert.Equal(expected, LiquidSyntax.Check(source));
    }

    // DotLiquid itself lets these through: the reason for the check.
    [Theory]
    [InlineData("{{ headers[\"x\" }}")]
    [InlineData("{{ headers[\"x\"] | }}")]
    public void DotLiquidAloneAcceptsThem(string source)
    {
        _ = Template.Parse(source);
        Assert.NotNull(LiquidSyntax.Check(source));
    }

    // Every prefix of every valid form, and a junk character put at every position: the check
    // never throws, and an error points inside the text.
    [Fact]
    public void NeverThrowsOnPrefixesAndMutations()
    {
        foreach (var source in ValidSources)
        {
            for (var length = 0; length <= source.Length; length++)
            {
                AssertPointsInside(source[..length]);
                foreach (var junk in "[]()|:,.\"'{}%-")
                {
                    AssertPointsInside(source[..length] + junk + source[length..]);
                }
            }
        }
    }

    private static void AssertPointsInside(string source)
    {
        var error = LiquidSyntax.Check(source);
        if (error is null)
        {
            return;
        }
        Assert.StartsWith("syntax error at ", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Theory]
    [InlineData("abc", 0, "column 1")]
    [InlineData("abc", 3, "column 4")]
    [InlineData("a\nbc", 3, "line 2, column 2")]
    [InlineData("\n", 0, "line 1, column 1")]
    public void PositionsAreOneBased(string source, int index, string expected)
    {
        Assert.Equal(expected, LiquidSyntax.Position(source, index));
    }
}
