using Failmail.Batching;
using Xunit;

namespace Failmail.Tests.Batching;

public class SubjectNormalizerTests
{
    // Real alert subjects (Nagios, Prometheus/Alertmanager, cron, Sentry, monit, smartd, backup
    // jobs, application exceptions) and what they group as.
    [Theory]
    [InlineData("disk 91% full on web-17", "disk <num>% full on web-<num>")]
    [InlineData("disk 93% full on web-4", "disk <num>% full on web-<num>")]
    [InlineData("** PROBLEM Service Alert: db-02/MySQL Connections is CRITICAL **", "** PROBLEM Service Alert: db-<num>/MySQL Connections is CRITICAL **")]
    [InlineData("[FIRING:3] HighLatency api-gateway (10.0.3.17:9100 prod)", "[FIRING:<num>] HighLatency api-gateway (<ip>:<num> prod)")]
    [InlineData("Cron <root@backup1.example.com> /usr/local/bin/backup.sh", "Cron <<email>> /usr/local/bin/backup.sh")]
    [InlineData("Cron <root@backup1> /usr/local/bin/backup.sh", "Cron <root@backup1> /usr/local/bin/backup.sh")]
    [InlineData("Delivery Status Notification (Failure) for alice@example.com", "Delivery Status Notification (Failure) for <email>")]
    [InlineData("Job 4f1c9a2e-77b0-4d3e-9b8a-0c2f5e6d7a81 failed after 3 retries", "Job <uuid> failed after <num> retries")]
    [InlineData("Health check https://api.example.com/v1/health?x=1 returned 503", "Health check <url> returned <num>")]
    [InlineData("Backup of /var/lib/pgsql finished at 2024-03-05 02:14:07 in 1h23m", "Backup of /var/lib/pgsql finished at <date> <time> in <duration>")]
    [InlineData("deploy a3f9c2e1d4b5 rolled back", "deploy <hex> rolled back")]
    [InlineData("segfault at 0x7ffd4c3a ip 0x00007f3a", "segfault at <hex> ip <hex>")]
    [InlineData("timeout after 250ms talking to fe80::1ff:fe23:4567:890a", "timeout after <duration> talking to <ip>")]
    [InlineData("connection from 2001:db8:85a3:0:0:8a2e:370:7334 refused", "connection from <ip> refused")]
    [InlineData("SMART error (CurrentPendingSector) detected on host: nas-3, 12 sectors", "SMART error (CurrentPendingSector) detected on host: nas-<num>, <num> sectors")]
    [InlineData("queue depth 1,204 exceeds 1,000", "queue depth <num> exceeds <num>")]
    [InlineData("load average 12.57 on worker7", "load average <num> on worker7")]
    [InlineData("certificate expires 2025-01-31T23:59:59Z", "certificate expires <date>")]
    [InlineData("report for 31/12/2024 ready", "report for <date> ready")]
    [InlineData("5xx rate high: v2 api", "5xx rate high: v2 api")]
    [InlineData("Sentry: ZeroDivisionError: division by zero", "Sentry: ZeroDivisionError: division by zero")]
    [InlineData("temperature -7 below threshold", "temperature <num> below threshold")]
    [InlineData("retrying in 30s (attempt 2/5)", "retrying in <duration> (attempt <num>/<num>)")]
    [InlineData("user id 12345678 locked", "user id <num> locked")]
    [InlineData("deadbeef accepted", "deadbeef accepted")]
    [InlineData("", "")]
    public void ReplacesValuesInSentrysOrder(string subject, string expected)
    {
        Assert.Equal(expected, SubjectNormalizer.Normalize(subject));
    }

    [Theory]
    [InlineData("disk 91% full on web-17", "91%/web-17")]
    [InlineData("Job 4f1c9a2e-77b0-4d3e-9b8a-0c2f5e6d7a81 failed after 3 retries", "4f1c9a2e-77b0-4d3e-9b8a-0c2f5e6d7a81/3")]
    [InlineData("load on db-2, db-3.", "db-2/db-3")]
    [InlineData("nothing variable here", "")]
    public void ExampleIsTheWordsThatHeldValues(string subject, string example)
    {
        SubjectNormalizer.Normalize(subject, out var actual);
        Assert.Equal(example, actual);
    }

    [Fact]
    public void VariantsOfOneAlertGroupTogether()
    {
        var keys = Enumerable.Range(0, 50)
            .Select(i => SubjectNormalizer.Normalize($"disk {50 + i}% full on web-{i} at 10:{i % 60:00}"))
            .Distinct()
            .ToList();
        Assert.Equal(["disk <num>% full on web-<num> at <time>"], keys);
    }

    [Fact]
    public void ExampleIsBounded()
    {
        var subject = string.Join(' ', Enumerable.Range(0, 300).Select(i => $"n{i}-{i}"));
        SubjectNormalizer.Normalize(subject, out var example);
        Assert.True(example.Length < 200, example);
    }

    // Hostile input: repetitions that make backtracking regexes quadratic or worse. A
    // subject is at most 998 bytes; the scanner also gets 64,000 characters of each, which a
    // quadratic scanner would take minutes over (every token start retried to the end).
    [Theory]
    [InlineData("a.")]
    [InlineData("1.")]
    [InlineData("1,")]
    [InlineData("a@")]
    [InlineData("a@b.")]
    [InlineData("::")]
    [InlineData("1:")]
    [InlineData("0")]
    [InlineData("a-")]
    [InlineData("http://")]
    [InlineData("1h")]
    [InlineData("1 ")]
    public void HostileRepetitionsAreScannedWhole(string unit)
    {
        var text = string.Concat(Enumerable.Repeat(unit, 998 / unit.Length));
        var result = SubjectNormalizer.Normalize(text, out var example);
        Assert.False(string.IsNullOrEmpty(result));
        Assert.True(example.Length <= 200, example);
        var longText = string.Concat(Enumerable.Repeat(unit, 64_000 / unit.Length));
        Assert.False(string.IsNullOrEmpty(SubjectNormalizer.Normalize(longText)));
    }
}
