using System.Diagnostics;

namespace Failmail.Hosting;

// The standard process_* series every Prometheus client exports, so dashboards and alerts
// built for other daemons (memory, CPU, file descriptors, restarts) work on failmail too.
internal sealed record ProcessSample(double CpuSeconds, long ResidentBytes, long VirtualBytes, int OpenFds, double StartTimeSeconds)
{
    public static ProcessSample Read()
    {
        using var process = Process.GetCurrentProcess();
        return new ProcessSample(
            process.TotalProcessorTime.TotalSeconds,
            process.WorkingSet64,
            process.VirtualMemorySize64,
            CountOpenFds(),
            new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero).ToUnixTimeMilliseconds() / 1000.0);
    }

    // -1 where /proc is not there to count them (the series is then left out).
    private static int CountOpenFds()
    {
        try
        {
            return Directory.GetFiles("/proc/self/fd").Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }
}
