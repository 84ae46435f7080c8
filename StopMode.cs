namespace Failmail;

// Shutdown: flush every batch and give the relay a last go. HandOver (reload): the new
// process loads the store and the queue whole, so this one skips both.
internal enum StopMode
{
    Shutdown,
    HandOver,
}
