using Failmail.Batching;

namespace Failmail.Tests.Batching;

public class GoTemplateTranslatorTests
{
    [Theory]
    [InlineData("{{.Header.Get \"X-Failmail-Split\"}}", "{{ headers[\"x-failmail-split\"] }}")]
    [InlineData("{{.Header.Get \"Subject\"}}", "{{ headers[\"subject\"] }}")]
    [InlineData("{{ .Header.Get \"Subject\" }}", "{{ headers[\"subject\"] }}")]
    [InlineData("{{match \"\\[\\w+\\]\" (.Header.Get \"Subject\")}}", "{{ headers[\"subject\"] | match: \"\\[\\w+\\]\" }}")]
    [InlineData("{{match `\\[\\w+\\]` (.Header.Get \"Subject\")}}", "{{ headers[\"subject\"] | match: \"\\[\\w+\\]\" }}")]
    [InlineData("{{replace \"\\[\\w+\\]\" (.Header.Get \"Subject\") \"*\"}}", "{{ headers[\"subject\"] | replace: \"\\[\\w+\\]\", \"*\" }}")]
    [InlineData("{{replace \"^(this|that)\" (.Header.Get \"Subject\") \"*\"}}", "{{ headers[\"subject\"] | replace: \"^(this|that)\", \"*\" }}")]
    [InlineData("host {{.Header.Get \"X-Host\"}}!", "host {{ headers[\"x-host\"] }}!")]
    [InlineData("{{.Header.Get \"Subject\" | match \"^\\\\w+\"}}", "{{ headers[\"subject\"] | match: \"^\\w+\" }}")]
    [InlineData("a {{- .Header.Get \"S\" -}} b", "a{{ headers[\"s\"] }}b")]
    [InlineData("x{{/* a comment */}}y", "xy")]
    [InlineData("{{match \"a\\\"b\" (.Header.Get \"S\")}}", "{{ headers[\"s\"] | match: 'a\"b' }}")]
    public void TranslatesFailmailForms(string go, string liquid)
    {
        Assert.True(GoTemplateTranslator.IsGoTemplate(go));
        Assert.Equal(liquid, GoTemplateTranslator.Translate("--group-expr", go));
    }

    [Fact]
    public void NestedSubPipelinesChain()
    {
        var go = "{{match \"^\\w+\" (replace \"\\[\\w+\\] \" (.Header.Get \"Subject\") \"\")}}";
        Assert.Equal("{{ headers[\"subject\"] | replace: \"\\[\\w+\\] \", \"\" | match: \"^\\w+\" }}",
            GoTemplateTranslator.Translate("--group-expr", go));
    }

    [Fact]
    public void NonLiteralArgumentsAreCaptured()
    {
        var go = "{{replace \"x\" \"axb\" (.Header.Get \"R\")}}";
        Assert.Equal("{% capture _fm0 %}{{ headers[\"r\"] }}{% endcapture %}{{ \"axb\" | replace: \"x\", _fm0 }}",
            GoTemplateTranslator.Translate("--group-expr", go));
    }

    [Theory]
    [InlineData("{{ headers.subject }}")]
    [InlineData("{{ subject | match: \"^x\" }}")]
    [InlineData("plain text")]
    [InlineData("{% if subject %}a{% endif %}")]
    [InlineData("{{ \"text\" | upcase }}")]
    [InlineData("{{- subject -}}")]
    [InlineData("{{ headers[\"x-failmail-split\"] }}")]
    public void LiquidIsNotMistakenForGo(string liquid)
    {
        Assert.False(GoTemplateTranslator.IsGoTemplate(liquid));
    }

    [Theory]
    [InlineData("{{printf \"%s\" (.Header.Get \"Subject\")}}", "'printf'")]
    [InlineData("{{if .Header.Get \"X\"}}a{{end}}", "'if'")]
    [InlineData("{{.Header.Subject}}", ".Header.Subject")]
    [InlineData("{{.Subject}}", ".Subject")]
    [InlineData("{{index .Header \"X\"}}", "'index'")]
    public void UnsupportedFormsFailNamingTheFlagAndShowingDotLiquid(string go, string what)
    {
        var e = Assert.Throws<ExpressionException>(() => GoTemplateTranslator.Translate("--batch-expr", go));
        Assert.StartsWith("--batch-expr: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(what, e.Message, StringComparison.Ordinal);
        Assert.Contains("{{ headers[", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("{{match \"x\"}}", "takes 2 arguments")]
    [InlineData("{{replace \"x\" (.Header.Get \"S\")}}", "takes 3 arguments")]
    [InlineData("{{.Header.Get \"S\"", "unclosed action")]
    [InlineData("{{match \"x}}", "unterminated string")]
    [InlineData("{{match \"x\" (.Header.Get \"S\"}}", "missing \")\"")]
    [InlineData("{{.Header.Get}}", ".Header.Get takes one string")]
    public void BrokenGoTemplatesFailClearly(string go, string expected)
    {
        var e = Assert.Throws<ExpressionException>(() => GoTemplateTranslator.Translate("--group-expr", go));
        Assert.StartsWith("--group-expr: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
