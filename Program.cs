using Failmail;

return await FailmailCommand.RunAsync(args).ConfigureAwait(false);
