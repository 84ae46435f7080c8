using Failmail.Batching;
using Failmail.History;

namespace Failmail.Tests.History;

public sealed class DigestHistoryTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("failmail-history-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static DigestRecord Record(int i, string outcome = "relayed", string text = "") =>
        new($"d{i}", T0.AddMinutes(i), "ops@example.com", "k", $"subject {i}", 100 + i, "smtp", outcome, "", text.Length > 0 ? text : $"text {i}");

    [Fact]
    public void TheHistoryIsBoundedNewestFirstAndSurvivesAReopen()
    {
        var history = new DigestHistory(_dir, 3);
        for (var i = 1; i <= 5; i++)
        {
            history.Record(Record(i));
        }

        Assert.Equal(["d5", "d4", "d3"], history.List(10, null).Select(e => e.Id));
        Assert.Equal(6, Directory.GetFiles(_dir).Length);

        var reopened = new DigestHistory(_dir, 2);
        Assert.Equal(["d5", "d4"], reopened.List(10, null).Select(e => e.Id));
        Assert.Equal("text 5", reopened.Text("d5"));
        Assert.Null(reopened.Find("d3"));
        Assert.Equal(4, Directory.GetFiles(_dir).Length);
        reopened.Record(Record(6));
        Assert.Equal(["d6", "d5"], reopened.List(10, null).Select(e => e.Id));
    }

    [Fact]
    public void ALaterOutcomeReplacesTheEarlierOneAndKeepsWhatItDidNotKnow()
    {
        var history = new DigestHistory(_dir, 10);
        history.Record(new DigestRecord("q1", T0, "ops@example.com", "batch", "s", 0, "smtp", "queued", "", ""));
        history.Record(new DigestRecord("q1", T0.AddMinutes(1), "ops@example.com", "", "s", 1234, "smtp", "relayed", "", "the digest"));

        var entry = Assert.Single(history.List(10, null));
        Assert.Equal("relayed", entry.Outcome);
        Assert.Equal("batch", entry.BatchKey);
        Assert.Equal(1234, entry.Size);
        Assert.Equal("the digest", history.Text("q1"));
    }

    [Fact]
    public void BeforePagesOlderEntries()
    {
        var history = new DigestHistory("", 10);
        for (var i = 1; i <= 5; i++)
        {
            history.Record(Record(i));
        }
        Assert.Equal(["d3", "d2"], history.List(2, "d4").Select(e => e.Id));
        Assert.Empty(history.List(2, "d1"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TextGivenAsBytesIsKeptAsItIsAndCutPastTheLimit(bool onDisk)
    {
        var history = new DigestHistory(onDisk ? _dir : "", 10);
        var small = "Subject: disk full\r\n\r\nbody\r\n"u8.ToArray();
        history.Record(new DigestRecord("b1", T0, "ops@example.com", "", "disk full", small.Length, "smtp", "relayed", "", "") { TextBytes = small });
        Assert.Equal("Subject: disk full\r\n\r\nbody\r\n", history.Text("b1"));

        var large = new byte[DigestRecord.MaxTextChars + 10];
        large.AsSpan().Fill((byte)'x');
        history.Record(new DigestRecord("b2", T0, "ops@example.com", "", "big", large.Length, "smtp", "relayed", "", "") { TextBytes = large });
        var text = history.Text("b2");
        Assert.NotNull(text);
        Assert.Equal(new string('x', DigestRecord.MaxTextChars) + DigestRecord.CutMarker, text);
    }
}
