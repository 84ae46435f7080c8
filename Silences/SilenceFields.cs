namespace Failmail.Silences;

// What a silence can look at in one message: the batcher's keys and subject, the envelope,
// and any header on demand (read only when a matcher asks for one).
internal readonly record struct SilenceFields(
    string Subject,
    string From,
    IReadOnlyList<string> To,
    string BatchKey,
    string GroupKey,
    Func<string, string?>? Header);
