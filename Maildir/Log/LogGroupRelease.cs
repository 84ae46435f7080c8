namespace Failmail.Maildir.Log;

// Completes a group's commits in one thread-pool work item: the sessions waiting on them
// resume there one after another (each only replies and goes back to reading its socket),
// instead of one pool wake-up per message, and never on the writer's thread, which must get
// on with the next group. The LogWriter calls it only after the group's fsync (and after
// sealing a full segment), or to fail the whole group.
internal static class LogGroupRelease
{
    // records: the group's synced records, in the group's order.
    public static void Succeed(List<LogCommit> commits, List<(long, ReceivedMessage)> records) => Release(commits, records, null);

    public static void Fail(List<LogCommit> commits, Exception error) => Release(commits, null, error);

    private static void Release(List<LogCommit> commits, List<(long, ReceivedMessage)>? records, Exception? error)
    {
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            var (commits, records, error) = state;
            for (var i = 0; i < commits.Count; i++)
            {
                if (error is null)
                {
                    // Success always comes with the records (Succeed passes them).
                    commits[i].Done.TrySetResult(records![i].Item2);
                }
                else
                {
                    commits[i].Done.TrySetException(error);
                }
            }
        }, (commits, records, error), preferLocal: false);
    }
}
