namespace Failmail.Batching;

// The parsed form of a Go template action: a string, a header lookup or a match/replace call.
internal abstract record GoTemplateNode
{
    internal sealed record Literal(string Value) : GoTemplateNode;

    internal sealed record HeaderGet(string Name) : GoTemplateNode;

    internal sealed record Call(string Function, List<GoTemplateNode> Args) : GoTemplateNode;
}
