namespace Failmail.Sendmail;

// The spool importer's settings, taken once from the options: --spool-dir ("" turns the
// import off), its limits (SMTP's, SpoolLimits) and --poll.
internal sealed record SpoolSettings(string Dir, SpoolLimits Limits, TimeSpan Poll)
{
    public static SpoolSettings From(FailmailOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new SpoolSettings(options.SpoolDir, SpoolLimits.From(options), options.Poll);
    }
}
