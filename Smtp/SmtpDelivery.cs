using Failmail.Intake;
using Failmail.Maildir;

namespace Failmail.Smtp;

// The store side of DATA, through the one intake (Intake/MessageIntake). At its end: decides
// the reply, commits the draft with its envelope and hands the message on. Only a durable
// commit earns 250 (failmail's rule, spec §2.8).
internal static class SmtpDelivery
{
    // The DATA command was in order: a draft to stream into, or null and the reply that
    // refuses it (451 when the batcher's queue is full or the store cannot be written).
    public static IMessageDraft? Begin(SmtpConnectionContext context, long connectionId, out SmtpReply refusal)
    {
        refusal = default;
        if (!context.Intake.HasCapacity)
        {
            SmtpLog.QueueFull(context.Logger, connectionId);
            context.CountRejected();
            refusal = SmtpReply.QueueFull;
            return null;
        }
        try
        {
            return context.Intake.CreateDraft();
        }
        catch (IOException e)
        {
            SmtpLog.StoreFailed(context.Logger, connectionId, e);
            context.CountRejected();
            refusal = StoreFailure(e);
            return null;
        }
    }

    // The EHLO name as the digest shows it: bounded, one line (the argument is the client's).
    private static string HeaderName(string helo) =>
        helo.Length <= 255 && !helo.AsSpan().ContainsAnyExceptInRange((char)0x21, (char)0x7e) ? helo : "";

    public static async ValueTask<SmtpReply> FinishAsync(
        SmtpConnectionContext context, long connectionId, SmtpSession session, DataReader data, IMessageDraft draft, string clientAddress)
    {
        await using (draft.ConfigureAwait(false))
        {
            if (data.TooLarge)
            {
                SmtpLog.MessageTooLarge(context.Logger, connectionId, context.Settings.Limits.MaxMessageSize);
                context.CountRejected();
                return SmtpReply.MessageTooBig;
            }
            if (data.WriteError is { } writeError)
            {
                SmtpLog.StoreFailed(context.Logger, connectionId, writeError);
                context.CountRejected();
                return StoreFailure(writeError);
            }
            if (!context.Intake.HasCapacity)
            {
                SmtpLog.QueueFull(context.Logger, connectionId);
                context.CountRejected();
                return SmtpReply.QueueFull;
            }
            var envelope = context.Intake.Envelope(session.From, session.Recipients, clientAddress, HeaderName(session.HeloDomain));
            IntakeResult result;
            try
            {
                result = await context.Intake.CommitAsync(draft, envelope, context.Abort).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                SmtpLog.StoreFailed(context.Logger, connectionId, e);
                context.CountRejected();
                return StoreFailure(e);
            }
            var message = result.Message;
            if (result.SinkError is { } sinkError)
            {
                // Committed is durable: the store keeps it pending, so 250 is still true.
                SmtpLog.SinkFailed(context.Logger, connectionId, message.Id, sinkError);
            }
            context.CountAccepted();
            SmtpLog.MessageAccepted(context.Logger, connectionId, message.Id, envelope.From, envelope.Recipients.Count, message.Size);
            return new SmtpReply(250, "2.0.0 Ok: queued as " + message.Id);
        }
    }

    // A full disk is 452 4.3.1 (§4.2.5, RFC 3463), any other store error 451 4.3.0. On Unix
    // .NET puts the errno (ENOSPC = 28) in HResult; on Windows ERROR_DISK_FULL (112) or
    // ERROR_HANDLE_DISK_FULL (39) wrapped in an HRESULT.
    // The store wraps the system's exception in one that names the file, so the errno may
    // be on an inner exception.
    internal static SmtpReply StoreFailure(IOException e)
    {
        for (Exception? error = e; error is not null; error = error.InnerException)
        {
            var diskFull = OperatingSystem.IsWindows() ? (error.HResult & 0xFFFF) is 39 or 112 : error.HResult == 28;
            if (diskFull)
            {
                return SmtpReply.DiskFull;
            }
        }
        return SmtpReply.StorageFailed;
    }
}
