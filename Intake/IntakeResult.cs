using Failmail.Maildir;

namespace Failmail.Intake;

// What the intake did with one message: it is stored; SinkError says whether the batcher took it now.
internal readonly record struct IntakeResult(ReceivedMessage Message, Exception? SinkError);
