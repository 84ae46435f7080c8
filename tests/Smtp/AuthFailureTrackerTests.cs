using Failmail.Smtp;
using Microsoft.Extensions.Time.Testing;

namespace Failmail.Tests.Smtp;

public class AuthFailureTrackerTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly string Wrong = "AUTH PLAIN " + Convert.ToBase64String("\0u\0x"u8.ToArray());
    private static readonly string Right = "AUTH PLAIN " + Convert.ToBase64String("\0u\0p"u8.ToArray());

    [Fact]
    public void DelayGrowsPerAddressAndIsCapped()
    {
        var tracker = new AuthFailureTracker(new FakeTimeProvider(Start), maxFailures: 100, maxDelay: TimeSpan.FromSeconds(5));
        Assert.Equal(TimeSpan.FromSeconds(1), tracker.RecordFailure("192.0.2.1"));
        Assert.Equal(TimeSpan.FromSeconds(2), tracker.RecordFailure("192.0.2.1"));
        Assert.Equal(TimeSpan.FromSeconds(1), tracker.RecordFailure("192.0.2.2"));
        for (var i = 0; i < 10; i++)
        {
            _ = tracker.RecordFailure("192.0.2.1");
        }
        Assert.Equal(TimeSpan.FromSeconds(5), tracker.RecordFailure("192.0.2.1"));
        Assert.Equal(13, tracker.Failures("192.0.2.1"));
    }

    [Fact]
    public void AddressIsBlockedAfterMaxFailuresUntilTheWindowPasses()
    {
        var time = new FakeTimeProvider(Start);
        var tracker = new AuthFailureTracker(time, maxFailures: 3, window: TimeSpan.FromMinutes(15));
        for (var i = 0; i < 3; i++)
        {
            Assert.False(tracker.IsBlocked("192.0.2.1"));
            _ = tracker.RecordFailure("192.0.2.1");
        }
        Assert.True(tracker.IsBlocked("192.0.2.1"));
        Assert.False(tracker.IsBlocked("192.0.2.2"));

        time.Advance(TimeSpan.FromMinutes(15) - TimeSpan.FromSeconds(1));
        Assert.True(tracker.IsBlocked("192.0.2.1"));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(tracker.IsBlocked("192.0.2.1"));
        Assert.Equal(0, tracker.Failures("192.0.2.1"));
        Assert.Equal(TimeSpan.FromSeconds(1), tracker.RecordFailure("192.0.2.1"));
    }

    [Fact]
    public void SuccessClearsTheAddressAndUnknownAddressesAreNotTracked()
    {
        var tracker = new AuthFailureTracker(new FakeTimeProvider(Start), maxFailures: 2);
        _ = tracker.RecordFailure("192.0.2.1");
        tracker.RecordSuccess("192.0.2.1");
        Assert.Equal(0, tracker.Failures("192.0.2.1"));
        Assert.Equal(TimeSpan.Zero, tracker.RecordFailure(""));
        Assert.False(tracker.IsBlocked(""));
        Assert.Equal(0, tracker.Count);
    }

    [Fact]
    public void MemoryIsBoundedExpiredEntriesGoFirstThenTheOldest()
    {
        var time = new FakeTimeProvider(Start);
        var tracker = new AuthFailureTracker(time, maxFailures: 2, window: TimeSpan.FromMinutes(1), capacity: 100);
        for (var i = 0; i < 100; i++)
        {
            _ = tracker.RecordFailure($"10.0.0.{i}");
            _ = tracker.RecordFailure($"10.0.0.{i}");
        }
        time.Advance(TimeSpan.FromMinutes(2));
        _ = tracker.RecordFailure("10.0.1.0");
        Assert.Equal(1, tracker.Count);

        // A flood of distinct addresses within one window: never more than the capacity, and
        // the newest (the ones still guessing) are kept.
        for (var i = 0; i < 10_000; i++)
        {
            _ = tracker.RecordFailure($"10.1.{i / 256}.{i % 256}");
            time.Advance(TimeSpan.FromMilliseconds(1));
        }
        Assert.Equal(100, tracker.Count);
        Assert.Equal(1, tracker.Failures("10.1.39.15"));
        Assert.Equal(0, tracker.Failures("10.1.0.0"));
    }

    [Fact]
    public async Task FailuresCountAcrossConnectionsFromOneAddressThenAuthGets421()
    {
        var clock = new FakeTimeProvider(Start);
        var tracker = new AuthFailureTracker(clock, maxFailures: 4, window: TimeSpan.FromMinutes(15));
        var credentials = new SmtpCredentials("u", "p");

        // First connection: the per-connection limit (3) closes it.
        await using (var first = new SmtpTranscript(credentials: credentials, allowUnencryptedAuth: true, authFailures: tracker))
        {
            await first.ExpectAsync("220 mx.test ESMTP failmail");
        await first.EhloAsync();
            await first.EhloAsync();
            for (var failure = 1; failure < SmtpLimits.MaxAuthFailures; failure++)
            {
                await first.SendAsync(Wrong);
                await first.ServerReadAsync();
                var reply = first.ReadLineAsync();
                first.Time.Advance(TimeSpan.FromSeconds(failure));
                Assert.Equal("535 5.7.8 Authentication credentials invalid", await reply);
            }
            await first.SendAsync(Wrong);
            await first.ExpectAsync("421 4.7.0 Too many authentication failures");
            await first.ExpectClosedAsync();
        }
        Assert.Equal(3, tracker.Failures("192.0.2.7"));

        // A fresh connection from the same address starts at the address's count: its first
        // failure waits 4 s, not 1 s.
        await using (var second = new SmtpTranscript(credentials: credentials, allowUnencryptedAuth: true, authFailures: tracker))
        {
            await second.ExpectAsync("220 mx.test ESMTP failmail");
        await second.EhloAsync();
            await second.EhloAsync();
            await second.SendAsync(Wrong);
            await second.ServerReadAsync();
            var reply = second.ReadLineAsync();
            second.Time.Advance(TimeSpan.FromSeconds(4) - TimeSpan.FromMilliseconds(1));
            Assert.False(reply.IsCompleted);
            second.Time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal("535 5.7.8 Authentication credentials invalid", await reply);

            // Now at the limit: even the right password is refused, at once, and the line closes.
            await second.SendAsync(Right);
            await second.ExpectAsync("421 4.7.0 Too many authentication failures");
            await second.ExpectClosedAsync();
        }

        // Other commands still work for a blocked address (it may send mail without AUTH only
        // where AUTH is not required); once the window has passed, AUTH works again.
        clock.Advance(TimeSpan.FromMinutes(15));
        await using var third = new SmtpTranscript(credentials: credentials, allowUnencryptedAuth: true, authFailures: tracker);
        await third.ExpectAsync("220 mx.test ESMTP failmail");
        await third.EhloAsync();
        await third.SendAsync(Right);
        await third.ExpectAsync("235 2.7.0 Authentication successful");
        Assert.Equal(0, tracker.Count);
    }
}
