namespace Failmail.Sendmail;

// SpoolEnvelopeReader.Read: more bytes needed, the envelope is whole (the message follows), or
// the file is bad (Reason says why).
internal enum SpoolEnvelopeStatus
{
    NeedMore,
    Complete,
    Bad,
}
