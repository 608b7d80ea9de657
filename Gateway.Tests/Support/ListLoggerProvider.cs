using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Support;

/// <summary>Collects formatted log messages (Warning and above) of a gateway under test.</summary>
internal sealed class ListLoggerProvider(List<string> sink) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(sink);

    public void Dispose()
    {
    }

    private sealed class Logger(List<string> sink) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (sink)
            {
                sink.Add(exception is null ? formatter(state, exception) : formatter(state, exception) + " " + exception.GetType().FullName + ": " + exception.Message);
            }
        }
    }
}
