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

    // The round trip both durable stores must give the message that RoundTripBody and
    // RoundTripEnvelope committed: the null sender, both recipients, the receive time to
    // the tick and its offset, the client address, the size and the bytes.
    public const string RoundTripBody = "Subject: x\r\n\r\nbody\r\n";

    public static Envelope RoundTripEnvelope() => EnvelopeAt(T0.AddTicks(1234567), from: "");

    public static void AssertRoundTripped(IMessageStore store, ReceivedMessage loaded)
    {
        Assert.Equal("", loaded.Envelope.From);
        Assert.Equal(["ops@example.com", "dev@example.com"], loaded.Envelope.Recipients);
        Assert.Equal(T0.AddTicks(1234567), loaded.Envelope.Received);
        Assert.Equal(T0.Offset, loaded.Envelope.Received.Offset);
        Assert.Equal("192.0.2.7", loaded.Envelope.ClientAddress);
        Assert.Equal(RoundTripBody.Length, loaded.Size);
        Assert.Equal(RoundTripBody, ReadAll(store, loaded.Id));
    }

    public static string ReadAll(IMessageStore store, string id)
    {
        using var reader = new StreamReader(store.OpenRead(id), Encoding.ASCII);
        return reader.ReadToEnd();
    }
}
