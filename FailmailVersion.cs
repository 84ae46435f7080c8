using System.Reflection;

namespace Failmail;

// The version every part reports (--version, the start-up log line).
internal static class FailmailVersion
{
    public static string Text { get; } =
        typeof(FailmailVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
