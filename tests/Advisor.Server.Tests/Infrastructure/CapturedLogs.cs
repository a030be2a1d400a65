using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Advisor.Server.Tests.Infrastructure;

/// <summary>One log line as a test sees it: its category, level and formatted message.</summary>
public sealed record CapturedLine(string Category, LogLevel Level, string Message);

/// <summary>
/// Records every line that passes the host's log filters (add it with <c>builder.Logging.AddProvider</c>), or one
/// category's lines when handed out as a logger (<see cref="For{T}"/>) to a class a test builds itself.
/// </summary>
public sealed class CapturedLogs : ILoggerProvider
{
    public ConcurrentQueue<CapturedLine> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger<object>(categoryName, Lines);

    public ILogger<T> For<T>() => new Logger<T>(typeof(T).FullName!, Lines);

    public void Dispose()
    {
    }

    private sealed class Logger<T>(string category, ConcurrentQueue<CapturedLine> lines) : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue(new CapturedLine(category, logLevel, formatter(state, exception)));
    }
}
