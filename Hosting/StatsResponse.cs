namespace Failmail.Hosting;

// GET / body (spec §7). Property order is the JSON order.
internal sealed record StatsResponse(int ActiveBatches, int ActiveMessages, string LastReceived);
