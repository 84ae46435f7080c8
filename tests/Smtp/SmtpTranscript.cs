using System.IO.Pipelines;
using System.Net.Security;
using System.Text;
using Failmail.Intake;
using Failmail.Maildir;
using Failmail.Rewriting;
using Failmail.Smtp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Failmail.Tests.Smtp;

// One SmtpConnection over an in-memory Pipe pair, with Send/Expect helpers for the client side.
internal sealed class SmtpTranscript : IAsyncDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly Pipe _toServer = new();
    private readonly Pipe _toClient = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly SemaphoreSlim _reads = new(0);
    private Stream _client;
    private int _readCount;
    private long _maxBuffered;

    public SmtpTranscript(
        SmtpLimits? limits = null,
        IMessageStore? store = null,
        SmtpCredentials? credentials = null,
        bool allowUnencryptedAuth = false,
        SslStreamCertificateContext? certificate = null,
        RecipientRewriter? rewriter = null,
        ILogger? logger = null,
        bool debug = false,
        AuthFailureTracker? authFailures = null)
    {
        Limits = limits ?? new SmtpLimits(10_000, 512, 100, 10, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10));
        Store = store ?? new MemoryMessageStore();
        Context = new SmtpConnectionContext
        {
            Settings = new SmtpSessionSettings("mx.test", Limits, credentials, allowUnencryptedAuth, certificate is not null),
            Intake = new MessageIntake(Store, Sink, null, rewriter ?? RecipientRewriter.None, Time),
            TimeProvider = Time,
            Certificate = certificate,
            AuthFailures = authFailures,
            Shutdown = _shutdown.Token,
            Abort = _abort.Token,
            DebugReceiver = debug,
            Logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance,
        };
        var serverStream = new DuplexStream(_toServer.Reader.AsStream(), _toClient.Writer.AsStream());
        _client = new DuplexStream(_toClient.Reader.AsStream(), _toServer.Writer.AsStream());
        Connection = new SmtpConnection(Context, 1, serverStream, "192.0.2.7", encrypted: false)
        {
            ReadObserved = length =>
            {
                // Largest buffer one read handed the connection: what it holds unconsumed.
                long seen;
                while (length > (seen = Interlocked.Read(ref _maxBuffered)) && Interlocked.CompareExchange(ref _maxBuffered, length, seen) != seen)
                {
                }
                Interlocked.Increment(ref _readCount);
                _reads.Release();
            },
        };
        Run = Task.Run(Connection.RunAsync);
    }

    public SmtpLimits Limits { get; }
    public IMessageStore Store { get; }
    public RecordingSink Sink { get; } = new();
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
    public SmtpConnectionContext Context { get; }
    public SmtpConnection Connection { get; }
    public Task Run { get; }
    public int ReadCount => Volatile.Read(ref _readCount);
    public long MaxBuffered => Interlocked.Read(ref _maxBuffered);

    public Task SendAsync(params string[] lines) => SendRawAsync(string.Concat(lines.Select(l => l + "\r\n")));

    public async Task SendBytesAsync(ReadOnlyMemory<byte> bytes)
    {
        await _client.WriteAsync(bytes).AsTask().WaitAsync(Wait);
        await _client.FlushAsync().WaitAsync(Wait);
    }

    public async Task SendRawAsync(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        await _client.WriteAsync(bytes).AsTask().WaitAsync(Wait);
        await _client.FlushAsync().WaitAsync(Wait);
    }

    // Waits until the connection has read (and, being synchronous up to its next await,
    // processed) one more chunk of input.
    public Task ServerReadAsync() => _reads.WaitAsync(Wait);

    public void CloseClientOutput() => _toServer.Writer.Complete();

    public async Task<string?> ReadLineAsync()
    {
        var sb = new StringBuilder();
        var one = new byte[1];
        while (true)
        {
            var n = await _client.ReadAsync(one).AsTask().WaitAsync(Wait);
            if (n == 0)
            {
                return sb.Length == 0 ? null : sb.ToString();
            }
            sb.Append((char)one[0]);
            if (sb.Length >= 2 && sb[^2] == '\r' && sb[^1] == '\n')
            {
                return sb.ToString(0, sb.Length - 2);
            }
        }
    }

    public async Task ExpectAsync(params string[] lines)
    {
        foreach (var expected in lines)
        {
            var line = await ReadLineAsync();
            Assert.Equal(expected, line);
        }
    }

    // Reads one whole reply (multi-line aware) and returns its lines.
    public async Task<List<string>> ReadReplyAsync()
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync() ?? throw new EndOfStreamException("connection closed");
            lines.Add(line);
            if (line.Length < 4 || line[3] != '-')
            {
                return lines;
            }
        }
    }

    // EHLO and its whole reply: AUTH needs a greeting first (EHLO announces it).
    public async Task<List<string>> EhloAsync()
    {
        await SendAsync("EHLO client.test");
        var reply = await ReadReplyAsync();
        Assert.StartsWith("250 ", reply[^1], StringComparison.Ordinal);
        // The read was reported before the reply was flushed: take its signal, so a later
        // ServerReadAsync waits for the next command's read.
        await ServerReadAsync();
        return reply;
    }

    public async Task ExpectClosedAsync()
    {
        Assert.Null(await ReadLineAsync());
        await Run.WaitAsync(Wait);
    }

    public async Task StartClientTlsAsync()
    {
        var ssl = new SslStream(_client, leaveInnerStreamOpen: true, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync("mx.test").WaitAsync(Wait);
        _client = ssl;
    }

    public void Shutdown() => _shutdown.Cancel();

    public async ValueTask DisposeAsync()
    {
        await _abort.CancelAsync();
        _toServer.Writer.Complete();
        await _client.DisposeAsync();
        await Run.WaitAsync(Wait);
        _shutdown.Dispose();
        _abort.Dispose();
        _reads.Dispose();
    }
}
