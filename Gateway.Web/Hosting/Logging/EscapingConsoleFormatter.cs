using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Gateway.Web.Hosting.Logging;

/// <summary>
/// The console format of the gateway: one line per entry (<c>info: Category[EventId] message</c>), with control
/// characters escaped and each message bounded. Messages carry what agents and upstreams sent (tool names, client
/// names, errors): escaped, a newline in them cannot forge a log line; bounded, a megabyte of it cannot flood the log.
/// Stack traces, which only the code writes, stay as they are.
/// </summary>
internal sealed class EscapingConsoleFormatter() : ConsoleFormatter(Name)
{
    /// <summary>The formatter's name (<c>Logging:Console:FormatterName</c>).</summary>
    public new const string Name = "gateway";

    /// <summary>The most characters of one message (or exception message) written; the rest is counted, not written.</summary>
    public const int MaxMessageChars = 4096;

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null)
        {
            return;
        }

        var line = new StringBuilder(message.Length + 64);
        line.Append(Level(logEntry.LogLevel)).Append(": ").Append(logEntry.Category).Append('[').Append(logEntry.EventId.Id).Append("] ");
        AppendEscaped(line, message);
        line.Append('\n');
        for (var exception = logEntry.Exception; exception is not null; exception = exception.InnerException)
        {
            line.Append("      ").Append(exception.GetType().FullName).Append(": ");
            AppendEscaped(line, exception.Message);
            line.Append('\n');
            if (exception.StackTrace is { } stack)
            {
                line.Append(stack.ReplaceLineEndings("\n")).Append('\n');
            }
        }

        textWriter.Write(line.ToString());
    }

    /// <summary>Appends <paramref name="text"/> with control, line-separator and bidi-override characters escaped, cut at <see cref="MaxMessageChars"/>.</summary>
    internal static void AppendEscaped(StringBuilder builder, string text)
    {
        var length = Math.Min(text.Length, MaxMessageChars);
        for (var i = 0; i < length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                case '\\' when i + 1 < length && text[i + 1] is 'n' or 'r' or 't' or 'u':
                    // A literal backslash before what would read as an escape is doubled: the escaped text stays unambiguous.
                    builder.Append("\\\\");
                    break;
                default:
                    if (char.IsControl(c) || c is '\u2028' or '\u2029' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069') or '\u200E' or '\u200F')
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        if (text.Length > length)
        {
            builder.Append("…(").Append(text.Length - length).Append(" more characters)");
        }
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };
}
