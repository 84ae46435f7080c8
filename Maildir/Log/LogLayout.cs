namespace Failmail.Maildir.Log;

// Where the message log lives inside the store root (see LogMessageStore):
//   log/<stem>.open     the segment a live process appends to
//   log/<stem>.seg      a sealed segment: never written again
//   log/<stem>.del      offsets of the segment's records that are removed (tombstones)
//   log/spill/<name>    the body of a large message still being received
// A message id is "<stem>#<offset in hex>"; '#' never occurs in a maildir name.
internal sealed class LogLayout(string root)
{
    public const char IdSeparator = '#';
    public const string OpenSuffix = ".open";
    public const string SealedSuffix = ".seg";
    public const string RemovedSuffix = ".del";

    public string Directory { get; } = Path.Combine(root, "log");
    public string Spill => Path.Combine(Directory, "spill");

    public string Open(string stem) => Path.Combine(Directory, stem + OpenSuffix);
    public string Sealed(string stem) => Path.Combine(Directory, stem + SealedSuffix);
    public string Removed(string stem) => Path.Combine(Directory, stem + RemovedSuffix);
    public string SpillFile(string name) => Path.Combine(Spill, name);

    public static string Id(string stem, long offset) =>
        stem + IdSeparator + offset.ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    public static bool IsLogId(string id) => id.Contains(IdSeparator, StringComparison.Ordinal);

    public static bool TryParseId(string id, out string stem, out long offset)
    {
        stem = "";
        offset = 0;
        var separator = id.LastIndexOf(IdSeparator);
        if (separator <= 0 || !MaildirName.IsValidId(id)
            || !long.TryParse(id.AsSpan(separator + 1), System.Globalization.NumberStyles.AllowHexSpecifier,
                System.Globalization.CultureInfo.InvariantCulture, out offset))
        {
            return false;
        }
        stem = id[..separator];
        return stem.IndexOf(IdSeparator) < 0;
    }

    public void Create()
    {
        foreach (var dir in new[] { Directory, Spill })
        {
            try
            {
                System.IO.Directory.CreateDirectory(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"Cannot create message store directory {dir}: {e.Message}", e);
            }
        }
    }

    // Sealed segment first, then its tombstones: a crash in between leaves an orphan .del,
    // which recovery deletes.
    public void DeleteSegment(string stem)
    {
        GroupCommitter.TryDelete(Sealed(stem));
        GroupCommitter.TryDelete(Removed(stem));
    }
}
