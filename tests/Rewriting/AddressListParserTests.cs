using Failmail.Rewriting;

namespace Failmail.Tests.Rewriting;

public sealed class AddressListParserTests
{
    private static string[] Addresses(string value)
    {
        Assert.True(AddressListParser.TryParse(value, out var list), value);
        return list.Mailboxes.Select(m => m.Address).ToArray();
    }

    [Theory]
    // MimeKit alone reads the first two as one mailbox named "root, Web".
    [InlineData("root, \"Web\" <w@x.example>", "root|w@x.example")]
    [InlineData("root , Web <w@x.example>", "root|w@x.example")]
    [InlineData("\"Doe, Jane\" <jane@x.example>, root", "jane@x.example|root")]
    [InlineData("jane@x.example (Doe, Jane), bob@x.example", "jane@x.example|bob@x.example")]
    [InlineData("<@relay.example,@b.example:jane@x.example>, bob@x.example", "jane@x.example|bob@x.example")]
    [InlineData("ops: a@x.example, b@x.example;, root", "a@x.example|b@x.example|root")]
    [InlineData("\"a \\\" , b\" <q@x.example>, root", "q@x.example|root")]
    [InlineData("a@[10.0.0.1], b@x.example,", "a@[10.0.0.1]|b@x.example")]
    [InlineData("undisclosed-recipients:;", "")]
    public void EveryTopLevelCommaSeparatesTwoAddresses(string value, string expected)
    {
        Assert.Equal(expected.Split('|', StringSplitOptions.RemoveEmptyEntries), Addresses(value));
    }

    [Fact]
    public void AnItemMimeKitCannotParseFailsTheWholeList()
    {
        Assert.True(AddressListParser.TryParse("root, a@x.example", out _));
        Assert.False(AddressListParser.TryParse("root, a@", out _));
        Assert.False(AddressListParser.TryParse("root, a b c", out _));
    }

    [Fact]
    public void UnbalancedQuotesLeaveTheRestAsOneItem()
    {
        Assert.Equal(["a@x.example", "\"open, b@x.example"], AddressListParser.SplitTopLevel("a@x.example,\"open, b@x.example"));
    }
}
