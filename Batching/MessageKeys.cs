namespace Failmail.Batching;

// What --batch-expr and --group-expr gave one message, and the subject its group shows.
internal readonly record struct MessageKeys(string BatchKey, string GroupKey, string Subject);
