namespace Failmail.Batching;

// A broken --batch-expr, --group-expr or --template: a start-up error. The message is one
// line that starts with the flag, e.g. "--group-expr: unknown filter 'matc'".
internal sealed class ExpressionException : Exception
{
    public ExpressionException()
    {
    }

    public ExpressionException(string message)
        : base(message)
    {
    }

    public ExpressionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ExpressionException(string flag, string message, Exception? innerException = null)
        : base($"{flag}: {OneLine(message)}", innerException)
    {
        Flag = flag;
    }

    public string Flag { get; } = "";

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
