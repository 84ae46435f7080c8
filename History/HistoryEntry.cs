namespace Failmail.History;

// What the history keeps in memory and writes beside each text (NNNNNNNNNNNN-PID.json): the
// record without its text, and its place in the order.
internal sealed class HistoryEntry
{
    // The files' common name (without .json/.txt): set when written or loaded, not stored.
    [System.Text.Json.Serialization.JsonIgnore]
    public string File { get; set; } = "";

    public long Seq { get; set; }

    public string Id { get; set; } = "";

    public DateTimeOffset Time { get; set; }

    public string Recipient { get; set; } = "";

    public string BatchKey { get; set; } = "";

    public string Subject { get; set; } = "";

    public long Size { get; set; }

    public string Target { get; set; } = "";

    public string Outcome { get; set; } = "";

    public string Error { get; set; } = "";
}
