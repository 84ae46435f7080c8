using System.Collections.Concurrent;

namespace Failmail.Intake;

// Shares the strings and one-recipient lists of envelopes that repeat. The store's index keeps
// every pending message's envelope, and a storm is the same sender and recipient a hundred
// thousand times: each message carried its own copies (about 180 bytes), a fifth of what the
// batcher's side holds per message (bench/pipeline, issue 13). Bounded: past MaxEntries new
// values are simply not shared. Thread-safe (every SMTP session and the spool use it).
internal sealed class EnvelopeInterner
{
    public const int MaxEntries = 4096;

    private readonly ConcurrentDictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IReadOnlyList<string>> _single = new(StringComparer.Ordinal);

    public string Intern(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (_strings.TryGetValue(value, out var shared))
        {
            return shared;
        }
        return _strings.Count < MaxEntries ? _strings.GetOrAdd(value, value) : value;
    }

    // A one-recipient list is shared (read-only: nothing writes an envelope's list); others
    // keep their own list with their strings shared.
    public IReadOnlyList<string> Intern(IReadOnlyList<string> recipients)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        if (recipients.Count == 1)
        {
            var recipient = recipients[0];
            if (_single.TryGetValue(recipient, out var list))
            {
                return list;
            }
            return _single.Count < MaxEntries ? _single.GetOrAdd(recipient, r => Array.AsReadOnly(new[] { Intern(r) })) : recipients;
        }
        var copy = new string[recipients.Count];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = Intern(recipients[i]);
        }
        return copy;
    }
}
