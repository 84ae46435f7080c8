namespace Failmail.Batching;

// A batch key went over --page-threshold messages within --page-window: Count is how many
// were in the window when it did.
internal readonly record struct StormPage(string BatchKey, long Count);
