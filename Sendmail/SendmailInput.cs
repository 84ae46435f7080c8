namespace Failmail.Sendmail;

// Reads the one message of a sendmail run from stdin. Line ends become CRLF. Without -i/-oi a
// line holding a single "." ends the message, as in sendmail; with it only EOF does.
internal static class SendmailInput
{
    public static byte[] Read(Stream input, bool ignoreDots, long maxSize)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var output = new MemoryStream();
        var line = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while ((read = input.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != (byte)'\n')
                {
                    line.WriteByte(buffer[i]);
                    continue;
                }
                if (EndLine(line, output, ignoreDots))
                {
                    return output.ToArray();
                }
                if (output.Length > maxSize)
                {
                    throw new InvalidDataException($"message larger than {maxSize} bytes");
                }
            }
        }
        if (line.Length > 0)
        {
            EndLine(line, output, ignoreDots);
        }
        if (output.Length > maxSize)
        {
            throw new InvalidDataException($"message larger than {maxSize} bytes");
        }
        return output.ToArray();
    }

    // Appends the line with CRLF; true when it was the lone dot that ends the message.
    private static bool EndLine(MemoryStream line, MemoryStream output, bool ignoreDots)
    {
        var bytes = line.GetBuffer().AsSpan(0, (int)line.Length);
        if (bytes.EndsWith("\r"u8))
        {
            bytes = bytes[..^1];
        }
        if (!ignoreDots && bytes.SequenceEqual("."u8))
        {
            return true;
        }
        output.Write(bytes);
        output.Write("\r\n"u8);
        line.SetLength(0);
        return false;
    }
}
