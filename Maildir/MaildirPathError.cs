namespace Failmail.Maildir;

// A clearer reason for a maildir path that cannot be created than .NET's "Could not find a
// part of the path" (ENOTDIR): which ancestor is a regular file. The store and the writers
// create missing parents themselves, so a file in the way is the usual impossible path.
internal static class MaildirPathError
{
    public static string Describe(string path, Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            for (var dir = Path.GetFullPath(path); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
            {
                if (File.Exists(dir))
                {
                    return $"{dir} is a file, not a directory";
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Fall back to the original message.
        }
        return error.Message;
    }
}
