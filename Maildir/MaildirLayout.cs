namespace Failmail.Maildir;

// Where each file of the message store lives. Invariants (see MaildirMessageStore):
//   tmp/<name>          message bytes being received (deleted on recovery)
//   tmp/<name>.meta     envelope JSON being committed (deleted on recovery)
//   cur/<id>            message bytes, id = <name>:2,S
//   .meta/<id>          envelope JSON; its presence is what "committed" means
//   quarantine/         poison entries moved aside: <id> (bytes), <id>.meta (envelope)
internal sealed class MaildirLayout(string root)
{
    public string Root { get; } = root;
    public string Tmp { get; } = Path.Combine(root, "tmp");
    public string Cur { get; } = Path.Combine(root, "cur");
    public string New { get; } = Path.Combine(root, "new");
    public string Meta { get; } = Path.Combine(root, ".meta");
    public string Quarantine { get; } = Path.Combine(root, "quarantine");

    public string TmpData(string name) => Path.Combine(Tmp, name);
    public string TmpMeta(string name) => Path.Combine(Tmp, name + ".meta");
    public string CurFile(string id) => Path.Combine(Cur, id);
    public string MetaFile(string id) => Path.Combine(Meta, id);

    // Every failmail maildir has cur, new, tmp and .meta (spec §3.1); new/ stays unused.
    public void Create()
    {
        foreach (var dir in new[] { Root, Cur, New, Tmp, Meta })
        {
            try
            {
                Directory.CreateDirectory(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"Cannot create message store directory {dir}: {e.Message}", e);
            }
        }
    }
}
