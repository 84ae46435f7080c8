using Failmail.Silences;

namespace Failmail.Api;

// The JSON shapes of /api/v1 (issue 15), shared by the server and `failmail ctl`.
// Times are RFC 3339 (System.Text.Json's DateTimeOffset format).
internal sealed class BatchDocument
{
    public long Id { get; set; }
    public string BatchKey { get; set; } = "";
    public string Recipient { get; set; } = "";
    public int Count { get; set; }
    public List<GroupDocument> Groups { get; set; } = [];
    public DateTimeOffset FirstSeen { get; set; }
    public DateTimeOffset LastSeen { get; set; }
    public DateTimeOffset SendAt { get; set; }
}

internal sealed class GroupDocument
{
    public string Key { get; set; } = "";
    public string Subject { get; set; } = "";
    public int Count { get; set; }
}

// One entry of the digest history as /api/v1/digests shows it (Text only for one entry by id).
// Not Batching/DigestDocument, the JSON part a spoke attaches to its digests.
internal sealed class HistoryDocument
{
    public string Id { get; set; } = "";
    public DateTimeOffset Time { get; set; }
    public string Recipient { get; set; } = "";
    public string BatchKey { get; set; } = "";
    public string Subject { get; set; } = "";
    public long Size { get; set; }
    public string Target { get; set; } = "";
    public string Outcome { get; set; } = "";
    public string Error { get; set; } = "";
    public string? Text { get; set; }
}

internal sealed class QueueDocument
{
    public string Id { get; set; } = "";
    public string Recipients { get; set; } = "";
    public DateTimeOffset Received { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset? NextRetry { get; set; }
    public string LastError { get; set; } = "";
}

internal sealed class FailedDocument
{
    public string Id { get; set; } = "";
    public string Subject { get; set; } = "";
    public string To { get; set; } = "";
    public DateTimeOffset Time { get; set; }
    public long Size { get; set; }
}

internal sealed class StatusDocument
{
    public long MessagesReceived { get; set; }
    public long Silenced { get; set; }
    public int ActiveBatches { get; set; }
    public long DigestsSent { get; set; }
    public int QueueLength { get; set; }
    // Messages received per minute, the last 60 minutes, oldest first.
    public List<long> Rate { get; set; } = [];
}

internal sealed class ErrorDocument
{
    public string Error { get; set; } = "";
}

internal sealed class OkDocument
{
    public bool Ok { get; set; } = true;
    public string? Id { get; set; }
}
