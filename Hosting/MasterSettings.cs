namespace Failmail.Hosting;

// What the master needs from the options (--master): the sockets it holds for its workers
// (SMTP when the receiver runs, HTTP when --bind-http is set), the pidfile that names it, and
// the worker's command line (the process's own, replayed with the sockets at fds 3 and 4).
internal sealed record MasterSettings(bool Receiver, string BindAddr, int SocketFd, string BindHttp, string Pidfile);
