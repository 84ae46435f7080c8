namespace Failmail.Sendmail;

// A message ready to submit: its envelope and its bytes (CRLF line ends, headers completed).
internal sealed record SubmittedMessage(string From, IReadOnlyList<string> Recipients, byte[] Bytes);
