namespace Failmail.Batching;

// --page-threshold, --page-window (issue 13; failnozzle's PAGER_LIMIT): counts each batch
// key's messages over a sliding window and says when a key has more than the threshold in it,
// once; the key is armed again when its count falls to the threshold or below. Pure and
// single-threaded: time comes in as ticks.
//
// The window is BucketCount buckets of window / BucketCount ticks: the count is that of the
// current bucket and the BucketCount - 1 before it, so it spans between (BucketCount - 1) /
// BucketCount of the window and the whole of it. Memory: one small array per key seen in the
// last window, at most MaxKeys keys (past that a new key is not counted until a sweep frees room).
internal sealed class StormPager
{
    public const int BucketCount = 12;
    public const int MaxKeys = 10_000;

    private readonly int _threshold;
    private readonly long _bucketTicks;
    private readonly Dictionary<string, KeyWindow> _keys = new(StringComparer.Ordinal);
    private long _nextSweep = long.MinValue;

    public StormPager(int threshold, long windowTicks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threshold, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowTicks, 1);
        _threshold = threshold;
        _bucketTicks = Math.Max(1, windowTicks / BucketCount);
    }

    public int TrackedKeys => _keys.Count;

    // Counts one message for batchKey at now. Returns the count in the window when this message
    // takes the key over the threshold and the key is armed (the page to send), else null.
    public long? Count(string batchKey, long now)
    {
        ArgumentNullException.ThrowIfNull(batchKey);
        var bucket = Math.Max(0, now / _bucketTicks);
        if (!_keys.TryGetValue(batchKey, out var key))
        {
            if (_keys.Count >= MaxKeys)
            {
                Sweep(now, force: true);
                if (_keys.Count >= MaxKeys)
                {
                    return null;
                }
            }
            key = new KeyWindow(bucket);
            _keys.Add(batchKey, key);
        }
        key.MoveTo(bucket);
        key.Add();
        if (key.Total > _threshold && !key.Paged)
        {
            key.Paged = true;
            return key.Total;
        }
        if (key.Total <= _threshold)
        {
            key.Paged = false;
        }
        return null;
    }

    // Forgets keys with nothing left in their window and re-arms those that fell back; at most
    // once per bucket unless forced (the batcher calls it every tick).
    public void Sweep(long now, bool force = false)
    {
        if (!force && now < _nextSweep)
        {
            return;
        }
        _nextSweep = now + _bucketTicks;
        var bucket = Math.Max(0, now / _bucketTicks);
        List<string>? idle = null;
        foreach (var (name, key) in _keys)
        {
            key.MoveTo(bucket);
            if (key.Total == 0)
            {
                (idle ??= new List<string>()).Add(name);
            }
            else if (key.Total <= _threshold)
            {
                key.Paged = false;
            }
        }
        if (idle is not null)
        {
            foreach (var name in idle)
            {
                _keys.Remove(name);
            }
        }
    }

    // Is the key still over the threshold (paged and not re-armed)? For tests and logs.
    public bool IsPaged(string batchKey) => _keys.TryGetValue(batchKey, out var key) && key.Paged;

    private sealed class KeyWindow(long bucket)
    {
        private readonly int[] _counts = new int[BucketCount];
        private long _newest = bucket;

        public long Total { get; private set; }
        public bool Paged { get; set; }

        // Moves the window's end to bucket, dropping the buckets that fell out of it. A bucket
        // earlier than the newest (an old message re-read at start) counts in the newest.
        public void MoveTo(long bucket)
        {
            if (bucket <= _newest)
            {
                return;
            }
            var steps = Math.Min(bucket - _newest, BucketCount);
            for (var i = 1; i <= steps; i++)
            {
                var slot = (int)((_newest + i) % BucketCount);
                Total -= _counts[slot];
                _counts[slot] = 0;
            }
            _newest = bucket;
        }

        public void Add()
        {
            _counts[(int)(_newest % BucketCount)]++;
            Total++;
        }
    }
}
