using System.Text;
using Failmail.Maildir;

namespace Failmail.Tests.Maildir;

// What the store tests share: a fixed receive time, an envelope, commit and read helpers.
internal static class StoreTestKit
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    public static readonly DateTimeOffset T0 = new(2026, 11, 22, 18, 0, 0, TimeSpan.FromHours(2));

    public static Envelope EnvelopeAt(DateTimeOffset received, string from = "app@example.com") =>
        new(from, ["ops@example.com", "dev@example.com"], received, "192.0.2.7");

    public static async Task<ReceivedMessage> CommitAsync(IMessageStore store, string body, Envelope envelope)
    {
        await using var draft = store.CreateDraft();
        draft.Write(Encoding.ASCII.GetBytes(body));
        return await draft.CommitAsync(envelope, CancellationToken.None).AsTask().WaitAsync(Patience);
    }

    public static string ReadAll(IMessageStore store, string id)
    {
        using var reader = new StreamReader(store.OpenRead(id), Encoding.ASCII);
        return reader.ReadToEnd();
    }
}
