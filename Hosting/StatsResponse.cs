namespace Failmail.Hosting;

// GET / body (spec §7). Property order is the JSON order. Version is ours (issue 16: which
// binary serves, e.g. after a reload onto a new one); Go failmail's readers ignore it.
internal sealed record StatsResponse(int ActiveBatches, int ActiveMessages, string LastReceived, string Version);
