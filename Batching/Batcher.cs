using System.Diagnostics;

namespace Failmail.Batching;

// Owns the open batches. Pure and single-threaded: time comes in as a monotonic tick count
// (TimeProvider.GetTimestamp() in the service, plain numbers in tests).
//
// A batch is one (batch key, normalised recipient) pair (failmail 0.2.0 and later). It is due
// at min(lastSeen + waitPeriod, firstSeen + maxWait), inclusive: a Tick at exactly that
// tick returns it. A batch folds any number of messages (a storm is one digest per window,
// issue 13): per group it keeps a count, first and last seen, the last message's id and
// subject; per batch the message ids, which it needs to remove its sources from the store
// after hand-off. No bodies (NewestMessages keeps a bounded few). A message that
// arrives at exactly the deadline tick, before the Tick for that tick, joins the batch (as in
// failmail, which read new messages before checking timers): it extends the quiet period,
// but cannot push the batch past firstSeen + maxWait.
//
// Each batch has one timer-wheel entry. A new message does not touch the wheel; when the entry
// fires and the quiet period has since been extended, the batch is scheduled again at its
// current deadline (lazy rescheduling). So Add is a dictionary lookup and a list append.
//
// Alertmanager-style timing (issue 13), both off at 0: with firstWait, a batch whose (key,
// recipient) had no digest in the last followUp (or ever) is due by firstSeen + firstWait,
// quiet or not; with followUp, a batch that starts within followUp of the last digest for its
// (key, recipient) is not due before that digest + followUp, and says so (DueBatch.FollowUp).
// The last-sent times are forgotten followUp after they were recorded. A deadline only ever
// grows while a batch is open, which the lazy rescheduling needs.
internal sealed class Batcher
{
    // Bounds the last-sent memory whatever the interval (the oldest go first).
    public const int MaxRemembered = 100_000;

    private readonly long _waitPeriod;
    private readonly long _maxWait;
    private readonly long _firstWait;
    private readonly long _followUp;
    private readonly StormPager? _pager;
    private readonly Dictionary<(string BatchKey, string Recipient), Batch> _batches = new();
    private readonly TimerWheel<Batch> _wheel;
    private readonly List<Batch> _expired = new();
    private readonly Dictionary<(string BatchKey, string Recipient), long> _lastSent = new();
    private readonly Queue<((string BatchKey, string Recipient) Key, long SentAt)> _sentOrder = new();
    private readonly List<StormPage> _pages = new();
    private long _activeMessages;
    private long _lastBatchId;

    // firstWait, followUp: --first-wait and --follow-up-interval in ticks (0: off). pager:
    // --page-threshold and --page-window, or null.
    public Batcher(long waitPeriod, long maxWait, int wheelSlots = 4096, long wheelResolution = 1,
        long firstWait = 0, long followUp = 0, StormPager? pager = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(waitPeriod);
        ArgumentOutOfRangeException.ThrowIfNegative(maxWait);
        ArgumentOutOfRangeException.ThrowIfNegative(firstWait);
        ArgumentOutOfRangeException.ThrowIfNegative(followUp);
        _waitPeriod = waitPeriod;
        _maxWait = maxWait;
        _firstWait = firstWait;
        _followUp = followUp;
        _pager = pager;
        _wheel = new TimerWheel<Batch>(wheelSlots, wheelResolution);
    }

    // (batch key, recipient) pairs whose last digest time is kept for --follow-up-interval.
    public int RememberedDigests => _lastSent.Count;

    // Pages (--page-threshold) raised since the last call, in order.
    public IReadOnlyList<StormPage> TakePages()
    {
        if (_pages.Count == 0)
        {
            return [];
        }
        var pages = _pages.ToList();
        _pages.Clear();
        return pages;
    }

    public int ActiveBatches => _batches.Count;

    // The earliest tick at which a Tick may return a batch, or null with none open. Never
    // later than the true next deadline; it may be earlier (a quiet period extended since the
    // batch was scheduled), and then that Tick returns nothing and moves the timer on. The
    // service sleeps until then rather than until its next poll (issue 13).
    public long? NextDeadline => _wheel.TryNextDue(out var due) ? due : null;

    // Messages in open batches, once per recipient batch (failmail's ActiveMessages).
    public long ActiveMessages => _activeMessages;

    public DateTimeOffset LastReceived { get; private set; }

    // now is the message's receive time on the monotonic timeline.
    public void Add(BatchedMessage message, long now)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Received > LastReceived)
        {
            LastReceived = message.Received;
        }
        // Counted once per message, not per recipient: the page is about the alert rate.
        if (_pager?.Count(message.BatchKey, now) is { } count)
        {
            _pages.Add(new StormPage(message.BatchKey, count));
        }
        HashSet<string>? seen = message.Recipients.Count > 1 ? new HashSet<string>(StringComparer.Ordinal) : null;
        foreach (var raw in message.Recipients)
        {
            var recipient = RecipientAddress.Normalize(raw);
            if (seen is not null && !seen.Add(recipient))
            {
                continue; // a case variant of a recipient already served: one copy
            }
            AddTo(message, recipient, now);
        }
    }

    // How many batches a message goes into: its distinct normalised recipients.
    public static int CountBatches(BatchedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.Recipients.Select(RecipientAddress.Normalize).Distinct(StringComparer.Ordinal).Count();
    }

    private void AddTo(BatchedMessage message, string recipient, long now)
    {
        var key = (message.BatchKey, recipient);
        if (!_batches.TryGetValue(key, out var batch))
        {
            batch = new Batch(message.BatchKey, recipient, now) { Id = ++_lastBatchId };
            var sentAt = 0L;
            var recent = _followUp > 0 && _lastSent.TryGetValue(key, out sentAt) && now - sentAt < _followUp;
            if (recent)
            {
                batch.FollowUp = true;
                batch.NotBefore = SaturatingAdd(sentAt, _followUp);
            }
            else if (_firstWait > 0)
            {
                batch.DueBy = SaturatingAdd(now, _firstWait);
            }
            _batches.Add(key, batch);
            _wheel.Schedule(Deadline(batch), batch);
        }
        batch.Add(message, now);
        _activeMessages++;
    }

    // Returns the batches due at now and forgets them; a message arriving later starts a new batch.
    public IReadOnlyList<DueBatch> Tick(long now)
    {
        var due = new List<DueBatch>();
        Forget(now);
        _pager?.Sweep(now);
        _expired.Clear();
        _wheel.Advance(now, _expired);
        foreach (var batch in _expired)
        {
            if (batch.Closed)
            {
                continue; // flushed earlier: a stale wheel entry
            }
            var deadline = Deadline(batch);
            if (deadline <= now)
            {
                Close(batch, due);
                Remember(batch, now);
            }
            else
            {
                _wheel.Schedule(deadline, batch); // the quiet period was extended since
            }
        }
        _expired.Clear();
        return due;
    }

    // Shutdown: every open batch, due or not.
    public IReadOnlyList<DueBatch> FlushAll()
    {
        var due = new List<DueBatch>(_batches.Count);
        foreach (var batch in _batches.Values.ToList())
        {
            Close(batch, due);
        }
        return due;
    }

    // The open batches for the API (issue 15), the limit soonest due first: read-only copies.
    // Only the chosen batches are summed up (ToDueBatch sorts a batch's groups).
    public List<OpenBatch> Snapshot(int limit)
    {
        var chosen = _batches.Values
            .Select(b => (Batch: b, Due: Deadline(b)))
            .OrderBy(b => b.Due)
            .ThenBy(b => b.Batch.Id)
            .Take(Math.Max(0, limit));
        var result = new List<OpenBatch>(Math.Min(limit, _batches.Count));
        foreach (var (batch, due) in chosen)
        {
            var groups = batch.ToDueBatch().Groups;
            result.Add(new OpenBatch(batch.Id, batch.BatchKey, batch.Recipient, batch.Count,
                [.. groups.Select(g => new OpenGroup(g.Key, g.Subject, g.Count))],
                groups.Min(g => g.First), groups.Max(g => g.Last), due));
        }
        return result;
    }

    // Closes one open batch now (the API's flush), or null when no batch has that id.
    public DueBatch? Flush(long id)
    {
        foreach (var batch in _batches.Values)
        {
            if (batch.Id == id)
            {
                var due = new List<DueBatch>(1);
                Close(batch, due);
                return due[0];
            }
        }
        return null;
    }

    private long Deadline(Batch batch) =>
        Math.Max(
            Math.Min(Math.Min(SaturatingAdd(batch.LastSeen, _waitPeriod), SaturatingAdd(batch.FirstSeen, _maxWait)), batch.DueBy),
            batch.NotBefore);

    private void Remember(Batch batch, long now)
    {
        if (_followUp <= 0)
        {
            return;
        }
        var key = (batch.BatchKey, batch.Recipient);
        _lastSent[key] = now;
        _sentOrder.Enqueue((key, now));
        while (_sentOrder.Count > MaxRemembered)
        {
            ForgetOldest();
        }
    }

    // Last-sent times older than the follow-up interval no longer hold a batch back.
    private void Forget(long now)
    {
        while (_sentOrder.Count > 0 && now - _sentOrder.Peek().SentAt >= _followUp)
        {
            ForgetOldest();
        }
    }

    private void ForgetOldest()
    {
        var (key, sentAt) = _sentOrder.Dequeue();
        if (_lastSent.TryGetValue(key, out var latest) && latest == sentAt)
        {
            _lastSent.Remove(key);
        }
    }

    private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    private void Close(Batch batch, List<DueBatch> due)
    {
        batch.Closed = true;
        var key = (batch.BatchKey, batch.Recipient);
        if (_batches.TryGetValue(key, out var open) && ReferenceEquals(open, batch))
        {
            _batches.Remove(key);
        }
        _activeMessages -= batch.Count;
        due.Add(batch.ToDueBatch());
    }

    private sealed class Batch(string batchKey, string recipient, long firstSeen)
    {
        // Most batches hold one group: the dictionary is made only for a second one, which
        // keeps a batch small and Add cache-friendly with 100k open batches.
        private Group? _first;
        private Dictionary<string, Group>? _groups;
        private List<Group>? _order;
        private readonly List<string> _ids = new(4);

        public long Id { get; init; }
        public string BatchKey { get; } = batchKey;
        public string Recipient { get; } = recipient;
        public long FirstSeen { get; } = firstSeen;
        public long LastSeen { get; private set; } = firstSeen;
        public int Count => _ids.Count;
        public bool Closed { get; set; }
        // --first-wait: due by this tick, quiet or not (long.MaxValue: no such bound).
        public long DueBy { get; set; } = long.MaxValue;
        // --follow-up-interval: not due before this tick (the last digest + the interval).
        public long NotBefore { get; set; } = long.MinValue;
        public bool FollowUp { get; set; }

        public void Add(BatchedMessage message, long now)
        {
            // A max, not failmail's plain assignment: re-batched old messages must not pull
            // the quiet period back.
            if (now > LastSeen)
            {
                LastSeen = now;
            }
            _ids.Add(message.Id);
            if (message.Folded is { } folded)
            {
                foreach (var group in folded)
                {
                    FindGroup(group.Key).AddFolded(group, message.Id);
                }
                return;
            }
            FindGroup(message.GroupKey).Add(message);
        }

        private Group FindGroup(string key)
        {
            if (_first is null)
            {
                return _first = new Group(key, 0);
            }
            if (_groups is null)
            {
                if (string.Equals(_first.Key, key, StringComparison.Ordinal))
                {
                    return _first;
                }
                _groups = new Dictionary<string, Group>(StringComparer.Ordinal) { [_first.Key] = _first };
                _order = new List<Group> { _first };
            }
            if (!_groups.TryGetValue(key, out var group))
            {
                Debug.Assert(_order is not null, "_order is created with _groups");
                group = new Group(key, _order.Count);
                _groups.Add(key, group);
                _order.Add(group);
            }
            return group;
        }

        public DueBatch ToDueBatch()
        {
            Debug.Assert(_first is not null, "a batch is created for its first message");
            IEnumerable<Group> all = _order ?? (IEnumerable<Group>)new[] { _first };
            var groups = all
                .OrderByDescending(g => g.Count)
                .ThenBy(g => g.Index)
                .Select(g => g.ToDueGroup())
                .ToList();
            var oldest = groups.Min(g => g.First);
            var newest = groups.Max(g => g.Last);
            return new DueBatch(BatchKey, Recipient, groups, _ids, oldest, newest) { FollowUp = FollowUp };
        }
    }

    private sealed class Group(string key, int index)
    {
        // A group names at most this many hosts with their counts; messages from others are
        // summed (DueGroup.OtherHostMessages). Examples: the first few distinct ones.
        public const int MaxHosts = 32;
        public const int MaxExamples = 3;

        // The hosts past MaxHosts are still counted, distinct, as hashes up to this many ("297
        // more hosts" for a hub's 300 spokes): 4 bytes and a slot each, only for such groups.
        public const int MaxOtherHosts = 10_000;

        // One host (the usual case) needs no dictionary.
        private string? _host;
        private int _hostCount;
        private Dictionary<string, int>? _hosts;
        private int _otherHostMessages;
        private HashSet<int>? _otherHosts;
        private List<string>? _examples;

        public string Key { get; } = key;
        public int Index { get; } = index;
        public int Count { get; private set; }
        public string LastId { get; private set; } = "";
        public string Subject { get; private set; } = "";
        public DateTimeOffset First { get; private set; } = DateTimeOffset.MaxValue;
        public DateTimeOffset Last { get; private set; } = DateTimeOffset.MinValue;

        public bool Folded { get; private set; }

        // A spoke's group (--merge-digests): its count, times, hosts and examples added to ours.
        public void AddFolded(DigestDocumentGroup group, string id)
        {
            Count = (int)Math.Min(int.MaxValue, (long)Count + group.Count);
            LastId = id;
            Folded = true;
            Subject = group.Subject;
            if (group.First < First)
            {
                First = group.First;
            }
            if (group.Last > Last)
            {
                Last = group.Last;
            }
            foreach (var host in group.Hosts)
            {
                AddHost(host.Host, (int)host.Count);
            }
            _otherHostMessages = (int)Math.Min(int.MaxValue, (long)_otherHostMessages + group.OtherHostMessages);
            foreach (var example in group.Examples)
            {
                AddExample(example);
            }
        }

        public void Add(BatchedMessage message)
        {
            Count++;
            LastId = message.Id;
            Folded = false;
            Subject = message.Subject; // the last message's: its body is the one shown
            if (message.Received < First)
            {
                First = message.Received;
            }
            if (message.Received > Last)
            {
                Last = message.Received;
            }
            AddHost(message.Host, 1);
            AddExample(message.Example);
        }

        private void AddExample(string example)
        {
            if (example.Length > 0 && (_examples is null || (_examples.Count < MaxExamples && !_examples.Contains(example))))
            {
                (_examples ??= new List<string>(MaxExamples)).Add(example);
            }
        }

        private void AddHost(string host, int count)
        {
            if (host.Length == 0)
            {
                return;
            }
            if (_hosts is null)
            {
                if (_host is null || string.Equals(_host, host, StringComparison.Ordinal))
                {
                    _host = host;
                    _hostCount = (int)Math.Min(int.MaxValue, (long)_hostCount + count);
                    return;
                }
                _hosts = new Dictionary<string, int>(StringComparer.Ordinal) { [_host] = _hostCount };
            }
            if (_hosts.TryGetValue(host, out var n))
            {
                _hosts[host] = (int)Math.Min(int.MaxValue, (long)n + count);
            }
            else if (_hosts.Count < MaxHosts)
            {
                _hosts.Add(host, count);
            }
            else
            {
                _otherHostMessages = (int)Math.Min(int.MaxValue, (long)_otherHostMessages + count);
                _otherHosts ??= [];
                if (_otherHosts.Count < MaxOtherHosts)
                {
                    _otherHosts.Add(StringComparer.Ordinal.GetHashCode(host));
                }
            }
        }

        public DueGroup ToDueGroup()
        {
            IReadOnlyList<HostCount> hosts = _hosts is not null
                ? _hosts.Select(h => new HostCount(h.Key, h.Value)).OrderByDescending(h => h.Count).ThenBy(h => h.Host, StringComparer.Ordinal).ToList()
                : _host is not null ? [new HostCount(_host, _hostCount)] : [];
            return new DueGroup(Key, Subject, Count, First, Last, LastId)
            {
                Hosts = hosts,
                OtherHostMessages = _otherHostMessages,
                OtherHosts = _otherHosts?.Count ?? 0,
                Examples = _examples ?? (IReadOnlyList<string>)[],
                Folded = Folded,
            };
        }
    }
}
