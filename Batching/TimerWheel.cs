using System.Numerics;

namespace Failmail.Batching;

// A hashed timer wheel: synchronous, single-threaded, no clock of its own. Ticks are plain
// numbers (the service passes TimeProvider.GetTimestamp() values; tests pass small integers).
// Schedule and Advance are O(1) per entry, so 100k pending deadlines cost the same per message
// as 10. A deadline further away than one turn of the wheel stays in its slot for several turns:
// the entry keeps its absolute due tick, which acts as the rounds counter and, unlike a
// decremented counter, stays right when Advance jumps over many turns at once.
internal sealed class TimerWheel<T>
{
    private readonly List<Entry>[] _slots;
    private readonly int _mask;
    private readonly long _resolution;
    private long _cursor; // absolute slot number not yet fully processed
    private bool _started;
    private int _count;

    public TimerWheel(int slotCount = 4096, long resolution = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slotCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(resolution, 1);
        if (!BitOperations.IsPow2(slotCount))
        {
            throw new ArgumentException("the slot count must be a power of two", nameof(slotCount));
        }
        _slots = new List<Entry>[slotCount];
        _mask = slotCount - 1;
        _resolution = resolution;
    }

    public int Count => _count;

    public void Schedule(long dueTicks, T item)
    {
        var slot = FloorDiv(dueTicks, _resolution);
        if (!_started)
        {
            _cursor = slot;
            _started = true;
        }
        // A deadline already in the past lands in the first slot the next Advance visits.
        if (slot < _cursor)
        {
            slot = _cursor;
        }
        var list = _slots[slot & _mask] ??= new List<Entry>();
        list.Add(new Entry(dueTicks, item));
        _count++;
    }

    // Moves the wheel to nowTicks and appends every item whose due tick is <= nowTicks
    // (inclusive) to expired, in slot order. The slot holding nowTicks is visited again by the
    // next Advance, because later deadlines in the same slot are not due yet.
    public void Advance(long nowTicks, List<T> expired)
    {
        ArgumentNullException.ThrowIfNull(expired);
        var target = FloorDiv(nowTicks, _resolution);
        if (!_started)
        {
            _cursor = target;
            _started = true;
            return;
        }
        if (target < _cursor || _count == 0)
        {
            if (target > _cursor)
            {
                _cursor = target;
            }
            else if (_count > 0)
            {
                // The cursor is ahead of now (it starts at the first deadline scheduled): an
                // entry scheduled behind it waits in the cursor's slot, and may be due already.
                Collect(_slots[_cursor & _mask] ?? [], nowTicks, expired);
            }
            return;
        }
        // More than one full turn: every physical slot once is enough, as entries compare
        // their absolute due tick.
        var span = target - _cursor + 1;
        var visits = span > _slots.Length ? _slots.Length : (int)span;
        for (var i = 0; i < visits && _count > 0; i++)
        {
            var list = _slots[(_cursor + i) & _mask];
            if (list is null || list.Count == 0)
            {
                continue;
            }
            Collect(list, nowTicks, expired);
        }
        _cursor = target;
    }

    // The earliest due tick of any entry (it may be in the past), false when there is none.
    // Visits the slots in the order Advance would, from the cursor, and stops at the first
    // one holding an entry of its current turn: at most one turn of slots, so the cost does
    // not grow with the entries. Only when every entry is a turn or more away does it look at
    // all of them.
    public bool TryNextDue(out long dueTicks)
    {
        dueTicks = 0;
        if (_count == 0)
        {
            return false;
        }
        for (var i = 0; i < _slots.Length; i++)
        {
            var slot = _cursor + i;
            var list = _slots[slot & _mask];
            if (list is null || list.Count == 0)
            {
                continue;
            }
            var found = false;
            foreach (var entry in list)
            {
                // An entry of this turn: its slot (past deadlines sit in a later one) is reached.
                if (FloorDiv(entry.Due, _resolution) <= slot && (!found || entry.Due < dueTicks))
                {
                    dueTicks = entry.Due;
                    found = true;
                }
            }
            if (found)
            {
                return true;
            }
        }
        dueTicks = long.MaxValue;
        foreach (var list in _slots)
        {
            if (list is null)
            {
                continue;
            }
            foreach (var entry in list)
            {
                dueTicks = Math.Min(dueTicks, entry.Due);
            }
        }
        return true;
    }

    private void Collect(List<Entry> list, long nowTicks, List<T> expired)
    {
        // Compacts in place: entries for a later turn (or later in this slot) stay.
        var kept = 0;
        for (var j = 0; j < list.Count; j++)
        {
            var entry = list[j];
            if (entry.Due <= nowTicks)
            {
                expired.Add(entry.Item);
                _count--;
            }
            else
            {
                list[kept++] = entry;
            }
        }
        list.RemoveRange(kept, list.Count - kept);
    }

    private static long FloorDiv(long a, long b)
    {
        var q = a / b;
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
    }

    private readonly record struct Entry(long Due, T Item);
}
