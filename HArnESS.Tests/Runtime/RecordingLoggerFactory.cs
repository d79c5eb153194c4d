using Microsoft.Extensions.Logging;

namespace HArnESS.Tests;

/// <summary>A logger factory that keeps every entry (level, category, formatted message) for tests to inspect.</summary>
internal sealed class RecordingLoggerFactory : ILoggerFactory
{
    private readonly List<(LogLevel Level, string Category, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Category, string Message)> Entries
    {
        get { lock (_entries) return _entries.ToArray(); }
    }

    /// <summary>The entries so far, and forgets them (for a test that checks one run at a time).</summary>
    public List<(LogLevel Level, string Category, string Message)> Take()
    {
        lock (_entries)
        {
            var copy = _entries.ToList();
            _entries.Clear();
            return copy;
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    private sealed class Logger(RecordingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._entries) owner._entries.Add((logLevel, category, formatter(state, exception)));
        }
    }
}
