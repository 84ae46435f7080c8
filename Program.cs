using System.Globalization;
using Failmail.Cli;

// Socket tuning for many short SMTP connections (smtp-source, cron bursts: one connection per
// message). Both are read once, when the first socket registers with the engine, so they are
// set before any socket exists; an operator's own setting (even "0") wins.
// - Inline completions: socket continuations run on the epoll thread instead of being handed
//   to a thread-pool worker each; that hand-off (futex wake-ups, context switches) was most
//   of the receiver's CPU. Nothing on the SMTP path blocks (the relay leaves these threads
//   before its file work).
// - One epoll thread per two cores instead of one per core: the rest stay free for batching,
//   relaying and the store, and fewer engine threads wake less often. On 2 cores this cut
//   another ~10% of the receiver's CPU per message with no loss of throughput.
SetUnlessSet("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
SetUnlessSet("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT", Math.Max(1, Environment.ProcessorCount / 2).ToString(CultureInfo.InvariantCulture));

return await FailmailCommand.RunAsync(args).ConfigureAwait(false);

static void SetUnlessSet(string variable, string value)
{
    if (Environment.GetEnvironmentVariable(variable) is null)
    {
        Environment.SetEnvironmentVariable(variable, value);
    }
}
