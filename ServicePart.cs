namespace Failmail;

// One running part of the process, as FailmailServices starts and stops it. Every part is
// built first (a bad setting fails before anything runs); then Start runs in list order.
// Parts stop in the reverse of their start order, in two passes over the list: Prepare (everything that
// must happen before anything drains: stop taking new work in, say what a hand-over skips),
// then Stop (drain and end). Dispose frees what is left, again in reverse order.
internal sealed class ServicePart(string name)
{
    public string Name { get; } = name;

    public Action? Start { get; init; }

    public Action<StopMode>? Prepare { get; init; }

    public Func<StopMode, Task>? Stop { get; init; }

    public Func<ValueTask>? Dispose { get; init; }
}

