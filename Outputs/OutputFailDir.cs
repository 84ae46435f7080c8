using System.Text.Json;
using Failmail.Maildir;

namespace Failmail.Outputs;

// Posts an output refused for good: FAIL-DIR/outputs/OUTPUT-ID.ENTRY-ID.json beside the
// fail-dir's mail (OutputFailure: the queued entry, the payload and the service's answer),
// fsynced before the entry leaves the queue. `failmail resend FAIL-DIR` (OutputResender)
// puts them back.
internal static class OutputFailDir
{
    public const string Folder = "outputs";

    public static string Write(string failDir, OutputFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var dir = Path.Combine(failDir, Folder);
        Directory.CreateDirectory(dir);
        var name = $"{failure.Output}.{failure.Entry.Id}.json";
        var tmp = Path.Combine(dir, "." + name + ".tmp");
        using (var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(file, failure, OutputsJsonContext.Default.OutputFailure);
            file.Flush(flushToDisk: true);
        }
        File.Move(tmp, Path.Combine(dir, name), overwrite: true);
        FileSync.Directory(dir);
        return name;
    }
}
