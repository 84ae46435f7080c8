using Failmail.Outputs;
using Failmail.Relay;

namespace Failmail.Hosting;

// Everything the HTTP endpoints show (spec §7 plus /metrics and /healthz), read from any
// thread. ServiceStats reads it from the running services.
internal interface IFailmailStats
{
    // §7: (batch key, recipient) batches in memory, including due ones waiting on the relay.
    int ActiveBatches { get; }

    // §7: messages in batches not yet due, counted once per recipient batch.
    int ActiveMessages { get; }

    // §7: the latest receive time over all batches; DateTimeOffset.MinValue when there are none.
    DateTimeOffset LastReceived { get; }

    long MessagesReceived { get; }

    long MessagesRejected { get; }

    long DigestsSent { get; }

    long RelayFailures { get; }

    long RelayRetries { get; }

    long FaildirMessages { get; }

    // Committed messages still in the incoming store.
    long PendingMessages { get; }

    int SmtpSessions { get; }

    // Receive time of the oldest message in the store, or null when it is empty.
    DateTimeOffset? OldestPendingReceived { get; }

    HistogramSnapshot DigestSendDuration { get; }

    // Why the last store write failed, or null while the store takes writes.
    string? StoreProblem { get; }

    // Start of the current run of relay failures, or null since the last success.
    DateTimeOffset? RelayFailingSince { get; }

    // Messages moved to --quarantine-dir, and the batches they came from.
    long QuarantinedMessages => 0;

    long QuarantinedBatches => 0;

    // Messages an active silence left out of digests (issue 15).
    long MessagesSilenced => 0;

    // A part that stopped or is stuck (PartWatch), or null while all run.
    string? PartProblem => null;

    // Each relay of the --relay-addr failover list (empty for debug or --receiver alone).
    IReadOnlyList<RelayEndpointStats> RelayEndpoints => [];

    // The --transport-map outputs: counters and queue depth each (empty without a map).
    IReadOnlyList<OutputStatus> Outputs => [];

    // An output failing for longer than --queue-lifetime, or null.
    string? OutputProblem => null;
}
