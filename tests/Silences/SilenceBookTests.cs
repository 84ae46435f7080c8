using Failmail.Silences;
using Microsoft.Extensions.Time.Testing;

namespace Failmail.Tests.Silences;

public sealed class SilenceBookTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(T0);
    private readonly string _dir = Directory.CreateTempSubdirectory("failmail-silences-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static SilenceDocument Document(string name = "subject", string value = "disk.*", bool regex = true, DateTimeOffset? endsAt = null) => new()
    {
        Matchers = [new MatcherDocument { Name = name, Value = value, IsRegex = regex }],
        EndsAt = endsAt ?? T0.AddHours(2),
        CreatedBy = "ops",
        Comment = "db maintenance",
    };

    private static SilenceFields Subject(string subject) => new(subject, "app@example.com", ["ops@example.com"], "", subject, null);

    [Fact]
    public void ASilenceMatchesUntilItsEndOnTheClock()
    {
        var book = new SilenceBook("", _time);
        var silence = book.Put(Document(), out var problem, out _);
        Assert.Null(problem);
        Assert.NotNull(silence);
        Assert.Equal("active", silence.State(_time.GetUtcNow()));
        Assert.NotNull(book.Match(Subject("disk full"), _time.GetUtcNow()));
        Assert.Null(book.Match(Subject("the disk full"), _time.GetUtcNow())); // anchored, as Alertmanager

        _time.Advance(TimeSpan.FromHours(2));

        Assert.Null(book.Match(Subject("disk full"), _time.GetUtcNow()));
        Assert.Equal("expired", silence.State(_time.GetUtcNow()));
    }

    [Fact]
    public void SilencesSurviveAReopenAndExpireDurably()
    {
        var path = Path.Combine(_dir, "silences.json");
        var book = SilenceBook.Open(path, _time);
        var kept = book.Put(Document(), out _, out _);
        var ended = book.Put(Document(value: "load.*"), out _, out _);
        Assert.NotNull(kept);
        Assert.NotNull(ended);
        Assert.True(book.Expire(ended.Id));

        var reopened = SilenceBook.Open(path, _time);

        Assert.Equal(2, reopened.All.Count);
        Assert.Equal("active", reopened.Find(kept.Id)?.State(_time.GetUtcNow()));
        Assert.Equal("expired", reopened.Find(ended.Id)?.State(_time.GetUtcNow()));
        Assert.NotNull(reopened.Match(Subject("disk full"), _time.GetUtcNow()));
        Assert.Null(reopened.Match(Subject("load high"), _time.GetUtcNow()));
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Theory]
    [InlineData("nope", "x", false, "matchers[].name")]
    [InlineData("subject", "(", true, "matchers[].value")]
    [InlineData("header:", "x", false, "matchers[].name")]
    public void ABadMatcherIsRefusedNamingTheField(string name, string value, bool regex, string field)
    {
        var book = new SilenceBook("", _time);
        Assert.Null(book.Put(Document(name, value, regex), out var problem, out var notFound));
        Assert.False(notFound);
        Assert.StartsWith(field, problem, StringComparison.Ordinal);
        Assert.Empty(book.All);
    }

    [Fact]
    public void MissingEndsAtOrMatchersOrAnEndInThePastAreRefused()
    {
        var book = new SilenceBook("", _time);
        Assert.Null(book.Put(new SilenceDocument { Matchers = Document().Matchers }, out var problem, out _));
        Assert.StartsWith("endsAt", problem, StringComparison.Ordinal);
        Assert.Null(book.Put(new SilenceDocument { EndsAt = T0.AddHours(1) }, out problem, out _));
        Assert.StartsWith("matchers", problem, StringComparison.Ordinal);
        Assert.Null(book.Put(Document(endsAt: T0.AddMinutes(-1)), out problem, out _));
        Assert.StartsWith("endsAt", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void UpdatingOrExpiringAnUnknownIdIsNotFound()
    {
        var book = new SilenceBook("", _time);
        var document = Document();
        document.Id = "no-such-id";
        Assert.Null(book.Put(document, out _, out var notFound));
        Assert.True(notFound);
        Assert.False(book.Expire("no-such-id"));
    }

    [Fact]
    public void ANegativeMatcherMatchesEverythingElse()
    {
        var book = new SilenceBook("", _time);
        var document = Document("subject", "keep me", regex: false);
        document.Matchers![0].IsEqual = false;
        Assert.NotNull(book.Put(document, out _, out _));
        Assert.NotNull(book.Match(Subject("noise"), _time.GetUtcNow()));
        Assert.Null(book.Match(Subject("keep me"), _time.GetUtcNow()));
    }
}
