using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Support;

/// <summary>Collects formatted log messages (Warning and above, unless a lower minimum is given) of a gateway under test.</summary>
internal sealed class ListLoggerProvider(List<string> sink, LogLevel minimum = LogLevel.Warning) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(sink, minimum);

    /// <summary>Gets what <paramref name="sink"/> holds so far (the gateway may still be writing to it).</summary>
    public static string[] Snapshot(List<string> sink)
    {
        lock (sink)
        {
            return [.. sink];
        }
    }

    public void Dispose()
    {
    }

    private sealed class Logger(List<string> sink, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            // The factory asks every provider whether a level is on and then hands the entry to all of them: with two
            // sinks (all entries, and only the problems) each keeps to its own minimum here.
            if (!IsEnabled(logLevel))
            {
                return;
            }

            lock (sink)
            {
                sink.Add(exception is null ? formatter(state, exception) : formatter(state, exception) + " " + exception.GetType().FullName + ": " + exception.Message);
            }
        }
    }
}
