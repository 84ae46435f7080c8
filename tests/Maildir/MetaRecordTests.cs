using System.Text;
using System.Text.Json;
using Failmail.Maildir;

namespace Failmail.Tests.Maildir;

public class MetaRecordTests
{
    [Fact]
    public void SerializesCompactlyWithGoFieldNamesAndHtmlEscapes()
    {
        // Go writes \u003c, System.Text.Json \u003C: the same JSON string to any reader.
        var envelope = new Envelope("a&b@example.com", ["<ops>@example.com"],
            new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(-5)).AddTicks(1_500_000), "::1");
        var json = Encoding.UTF8.GetString(
            JsonSerializer.SerializeToUtf8Bytes(MetaRecord.FromEnvelope(envelope, 42), MetaJsonContext.Default.MetaRecord));
        Assert.Equal(
            """{"EnvelopeFrom":"a\u0026b@example.com","EnvelopeTo":["\u003Cops\u003E@example.com"],"RedirectedTo":["\u003Cops\u003E@example.com"],"Received":"2026-01-02T03:04:05.15-05:00","ClientAddress":"::1","Size":42}""",
            json);
    }

    [Fact]
    public void ReadsGoTimesWithNanosecondsAndRedirectedToBeforeEnvelopeTo()
    {
        var record = JsonSerializer.Deserialize(
            """{"EnvelopeFrom":"<>","EnvelopeTo":["orig@example.com"],"RedirectedTo":["new@example.com"],"Received":"2026-01-02T03:04:05.123456789Z"}""",
            MetaJsonContext.Default.MetaRecord);
        var envelope = record?.ToEnvelope(() => DateTimeOffset.UnixEpoch);
        Assert.NotNull(envelope);
        Assert.Equal("", envelope.From);
        Assert.Equal(["new@example.com"], envelope.Recipients);
        Assert.Equal(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1_234_567), envelope.Received);
    }

    // issue 13: the EHLO name is stored beside the address; records without it (older ones,
    // failmail's) read as "", and an envelope without one writes no field.
    [Fact]
    public void ClientNameRoundTripsAndIsOptional()
    {
        var envelope = new Envelope("a@example.com", ["ops@example.com"], DateTimeOffset.UnixEpoch, "10.0.0.7") { ClientName = "web-3.example.com" };
        var json = JsonSerializer.SerializeToUtf8Bytes(MetaRecord.FromEnvelope(envelope, 1), MetaJsonContext.Default.MetaRecord);
        Assert.Contains("\"ClientName\":\"web-3.example.com\"", Encoding.UTF8.GetString(json), StringComparison.Ordinal);
        var back = JsonSerializer.Deserialize(json, MetaJsonContext.Default.MetaRecord)?.ToEnvelope(() => DateTimeOffset.UnixEpoch);
        Assert.Equal("web-3.example.com", back?.ClientName);
        var old = JsonSerializer.Deserialize("""{"EnvelopeFrom":"a@b","EnvelopeTo":["c@d"],"ClientAddress":"::1"}""", MetaJsonContext.Default.MetaRecord);
        Assert.Equal("", old?.ToEnvelope(() => DateTimeOffset.UnixEpoch)?.ClientName);
        var none = JsonSerializer.SerializeToUtf8Bytes(MetaRecord.FromEnvelope(envelope with { ClientName = "" }, 1), MetaJsonContext.Default.MetaRecord);
        Assert.DoesNotContain("ClientName", Encoding.UTF8.GetString(none), StringComparison.Ordinal);
    }

    [Fact]
    public void NoRecipientsMeansNoEnvelope()
    {
        var record = JsonSerializer.Deserialize("""{"EnvelopeFrom":"a@b","EnvelopeTo":[],"RedirectedTo":null}""",
            MetaJsonContext.Default.MetaRecord);
        Assert.Null(record?.ToEnvelope(() => DateTimeOffset.UnixEpoch));
    }
}
