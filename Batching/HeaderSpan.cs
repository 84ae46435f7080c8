namespace Failmail.Batching;

// Offsets into the message bytes of one header's name and raw value (HeaderBlock).
internal readonly record struct HeaderSpan(int FieldStart, int FieldLength, int ValueStart, int ValueLength);
