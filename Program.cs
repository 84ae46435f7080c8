using Failmail;

// Run socket completions on the epoll thread instead of handing each one to a thread-pool
// worker: smtp-source style load (one short connection per message) otherwise spends much
// of its CPU waking workers. Read once, when the first socket registers with the engine, so
// it must be set before any socket exists. An operator's own setting (even "0") wins.
const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
{
    Environment.SetEnvironmentVariable(InlineCompletions, "1");
}

return await FailmailCommand.RunAsync(args).ConfigureAwait(false);
