namespace Failmail.Maildir;

// How a commit makes the message bytes and the envelope durable before publishing them.
internal enum CommitSync
{
    // Each draft fsyncs its own two files, in parallel on the sessions' threads; the
    // committer syncs cur/ and .meta/ once per group.
    PerFile,

    // Drafts do not sync; the committer calls syncfs(2) once per group, which covers every
    // file of the group and the renames into cur/, then syncs .meta/. Fewer syscalls and
    // no blocked session threads, but it also flushes unrelated dirty data on the same
    // filesystem.
    FileSystem,
}
