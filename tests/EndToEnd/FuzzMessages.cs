using System.Text;

namespace Failmail.Tests.EndToEnd;

// Seeded hostile mail for PipelineFuzzTests: envelopes with odd but legal and illegal
// addresses, header blocks with encoded words (good and broken), 8-bit bytes, folding,
// garbage lines and huge values, and MIME trees with wrong boundaries, bad transfer
// encodings, unknown charsets and nested messages.
internal sealed class FuzzMessages(Random random)
{
    private static readonly string[] Senders = ["app@example.com", "", "a..b@x.test", "\"cron daemon\"@host.test", ".x@y.test", "δ@ü.test", "bad address@x", "postmaster"];
    private static readonly string[] Recipients = ["ops@example.com", "OPS@EXAMPLE.COM", "dev@example.com", "a..b@y.test", ".a@y.test", "a.@y.test",
        "\"a b\"@y.test", "\"a\\\"q\"@y.test", "a@[127.0.0.1]", "a@[IPv6:::1]", "δ@ü.test", "x@::1", "a b@y.test", "@y.test", "a@b..c", "<nested>@y.test"];
    private static readonly string[] Teams = ["db", "web", "", "ünïcode", "a\"quote", "{{ liquid }}", new string('t', 3000)];
    private static readonly string[] Charsets = ["utf-8", "iso-8859-1", "x-klingon-9", "utf-7", "", "\"", "gb2312", "windows-1252"];
    private static readonly string[] Encodings = ["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "binary", "bogus"];

    public (string From, string[] To, byte[] Message) Next(int index)
    {
        var from = Pick(Senders);
        var to = Enumerable.Range(0, random.Next(1, 4)).Select(_ => Pick(Recipients)).ToArray();
        var message = new MemoryStream();
        void Text(string s) => message.Write(Encoding.UTF8.GetBytes(s));

        if (random.Next(10) > 0)
        {
            Text($"Subject: {Subject(index)}\r\n");
        }
        Text($"X-Team: {Pick(Teams)}\r\n");
        for (var i = random.Next(4); i > 0; i--)
        {
            HeaderNoise(message);
        }
        var multipart = random.Next(3) == 0;
        var boundary = "b" + random.Next(1000);
        if (multipart)
        {
            Text($"MIME-Version: 1.0\r\nContent-Type: multipart/{Pick(["mixed", "alternative", "related", "bogus"])}; boundary=\"{boundary}\"\r\n");
        }
        else if (random.Next(2) == 0)
        {
            Text($"Content-Type: text/plain; charset={Pick(Charsets)}\r\nContent-Transfer-Encoding: {Pick(Encodings)}\r\n");
        }
        Text("\r\n");
        if (multipart)
        {
            for (var part = random.Next(0, 4); part > 0; part--)
            {
                var b = random.Next(4) == 0 ? "wrong" + boundary : boundary;
                Text($"--{b}\r\nContent-Type: {Pick(["text/plain", "text/html", "message/rfc822", "application/octet-stream"])}; charset={Pick(Charsets)}\r\n");
                Text($"Content-Transfer-Encoding: {Pick(Encodings)}\r\n\r\n");
                Body(message);
            }
            if (random.Next(2) == 0)
            {
                Text($"--{boundary}--\r\n");
            }
        }
        else
        {
            Body(message);
        }
        return (from, to, message.ToArray());
    }

    private string Subject(int index)
    {
        var subject = random.Next(8) switch
        {
            0 => $"=?utf-8?B?{Convert.ToBase64String(Encoding.UTF8.GetBytes($"disk {index % 50} voll ✓"))}?=",
            1 => "=?x-unknown?Q?broken=ZZ?= =?utf-8?B?not base64?=",
            2 => new string('S', random.Next(1000, 20_000)),
            3 => $"alert {index % 40}\r\n\tfolded part",
            4 => "ünïcödé ⚠ " + (index % 30),
            5 => "",
            _ => $"disk {index % 25} full",
        };
        return subject;
    }

    private void HeaderNoise(MemoryStream message)
    {
        switch (random.Next(6))
        {
            case 0:
                message.Write("this line is no header\r\n"u8);
                break;
            case 1:
                message.Write("X-Raw: "u8);
                message.Write(RandomBytes(random.Next(1, 40)));
                message.Write("\r\n"u8);
                break;
            case 2:
                message.Write(Encoding.ASCII.GetBytes($"X-Long: {new string('L', random.Next(500, 5000))}\r\n"));
                break;
            case 3:
                message.Write("\tcontinuation without a header\r\n"u8);
                break;
            case 4:
                message.Write("From: \"Broken <app@example.com>\r\n"u8);
                break;
            default:
                message.Write("To: undisclosed-recipients:;\r\n"u8);
                break;
        }
    }

    private void Body(MemoryStream message)
    {
        switch (random.Next(5))
        {
            case 0:
                message.Write(RandomBytes(random.Next(0, 2000)));
                break;
            case 1:
                message.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomBytes(random.Next(0, 3000)), Base64FormattingOptions.InsertLineBreaks)));
                break;
            case 2:
                message.Write("=E2=9C=93 qp =ZZ broken=\r\n.\r\n..\r\n"u8);
                break;
            case 3:
                message.Write("Subject: nested\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\ninner\r\n"u8);
                break;
            default:
                message.Write(Encoding.UTF8.GetBytes($"plain body line\r\n{new string('b', random.Next(0, 5000))}\r\n"));
                break;
        }
        message.Write("\r\n"u8);
    }

    private byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private T Pick<T>(T[] items) => items[random.Next(items.Length)];
}
