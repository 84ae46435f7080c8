using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Failmail.Smtp;

// Runs one accepted socket: socket options, the stream and its abort hook, the --ssl
// handshake, then the SmtpConnection. Every fault is caught and logged here (STYLE
// pitfall 12), so one bad client never affects another; the slot is given back at the end.
// Called straight from the accept loop, which it does not hold up past the first wait.
internal sealed class SmtpConnectionStarter
{
    private readonly SmtpConnectionContext _context;
    private readonly SmtpOpenConnections _connections;
    private readonly bool _implicitTls;

    public SmtpConnectionStarter(SmtpConnectionContext context, SmtpOpenConnections connections, bool implicitTls)
    {
        _context = context;
        _connections = connections;
        _implicitTls = implicitTls;
    }

    public async Task RunAsync(Socket client, long id)
    {
        try
        {
            var remote = client.RemoteEndPoint as IPEndPoint;
            if (_context.Logger.IsEnabled(LogLevel.Debug))
            {
                // The end point as text only when it is logged: a string per connection otherwise.
                SmtpLog.ConnectionOpened(_context.Logger, id, remote?.ToString() ?? "?");
            }
            client.NoDelay = true;
            Stream stream = new NetworkStream(client, ownsSocket: true);
            await using (stream.ConfigureAwait(false))
            // The state is the stream passed right here, never null.
            using (_context.Abort.Register(static s => ((Stream)s!).Dispose(), stream))
            {
                if (_implicitTls)
                {
                    var ssl = await HandshakeAsync(stream, id).ConfigureAwait(false);
                    if (ssl is null)
                    {
                        return;
                    }
                    stream = ssl;
                }
                var address = remote?.Address.IsIPv4MappedToIPv6 == true ? remote.Address.MapToIPv4() : remote?.Address;
                var allowed = address is null ? !_context.AllowFrom.IsRestricted : _context.AllowFrom.Contains(address);
                if (!allowed && _context.Settings.Credentials is null)
                {
                    // §3.1: 554 instead of the greeting. Outside --allow-from with no AUTH to
                    // offer, there is nothing this client could do here.
                    SmtpLog.ClientRefused(_context.Logger, id, address?.ToString() ?? "?");
                    await RefuseAsync(stream).ConfigureAwait(false);
                    return;
                }
                // In --allow-from (when it is set), --credentials need not be used (permit_mynetworks).
                var peer = new SmtpPeer(address is not null && IPAddress.IsLoopback(address), IsAllowed: allowed && _context.AllowFrom.IsRestricted);
                var connection = new SmtpConnection(_context, id, stream, address?.ToString() ?? "", encrypted: _implicitTls, peer);
                await connection.RunAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            SmtpLog.ConnectionFailed(_context.Logger, id, e);
        }
        finally
        {
            client.Dispose();
            _connections.Release(id);
        }
    }

    private async Task RefuseAsync(Stream stream)
    {
        var reply = new SmtpReply(554, "5.7.1 " + _context.Settings.HostName + " access denied");
        using var timeout = new CancellationTokenSource(_context.Settings.Limits.CommandTimeout, _context.TimeProvider);
        try
        {
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(reply.ToString()), timeout.Token).ConfigureAwait(false);
            await stream.FlushAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The client went first; it was refused either way.
        }
    }

    // --ssl: implicit TLS (RFC 8314) before the greeting, bounded by the command timeout.
    private async Task<Stream?> HandshakeAsync(Stream transport, long id)
    {
        var ssl = new SslStream(transport, leaveInnerStreamOpen: false);
        using var timeout = new CancellationTokenSource(_context.Settings.Limits.CommandTimeout, _context.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _context.Abort);
        try
        {
            var options = new SslServerAuthenticationOptions { ServerCertificateContext = _context.Certificate };
            await ssl.AuthenticateAsServerAsync(options, linked.Token).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
        {
            SmtpLog.TlsFailed(_context.Logger, id, e);
            await ssl.DisposeAsync().ConfigureAwait(false);
            return null;
        }
    }
}
