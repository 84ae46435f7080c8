namespace Failmail;

// Placeholder until the CLI lands: parses nothing yet.
internal static class FailmailCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        Console.Error.WriteLine($"failmail: {args.Length} arguments; the CLI is not wired yet");
        return Task.FromResult(0);
    }
}
