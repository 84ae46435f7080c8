namespace Failmail.Sendmail;

// sysexits.h: what cron, mailx and sudo understand from a sendmail.
internal static class SysExits
{
    public const int Ok = 0;
    public const int Usage = 64;
    public const int DataError = 65;
    public const int Unavailable = 69;
    public const int Software = 70;
    public const int CannotCreate = 73;
    public const int TempFail = 75;
    public const int Config = 78;
}
