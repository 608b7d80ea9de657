using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams.Limits;

/// <summary>
/// Starts a stdio upstream and reads its stdout through <see cref="FramedMessageLimitStream"/>. The SDK's
/// <c>StdioClientTransport</c> reads each line whole, however long, and offers no way in; this one starts the process
/// the same way (no shell, no inherited environment) and hands the streams to the SDK's stream transport.
/// </summary>
internal sealed class StdioUpstreamTransport(StdioUpstreamOptions options, ILoggerFactory loggerFactory) : IClientTransport
{
    /// <summary>The longest stderr line kept; the rest of a longer one is dropped (a child controls its stderr).</summary>
    internal const int MaxStderrLineChars = 4096;

    public string Name => options.Name;

    public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo
        {
            FileName = options.Command,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
            WorkingDirectory = options.WorkingDirectory ?? Environment.CurrentDirectory,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
        };
        foreach (var argument in options.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Clear();
        foreach (var (name, value) in options.Environment)
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start };
        try
        {
            if (!process.Start())
            {
                throw new IOException($"The process '{options.Command}' did not start.");
            }
        }
        catch (Exception ex) when (ex is not IOException)
        {
            process.Dispose();
            throw new IOException($"Starting '{options.Command}' failed: {ex.Message}", ex);
        }

        var stderr = Task.Run(() => ReadStderrAsync(process.StandardError.BaseStream, options.StandardErrorLines), CancellationToken.None);
        var stdout = new FramedMessageLimitStream(
            process.StandardOutput.BaseStream,
            MessageFraming.Line,
            options.MaxMessageBytes,
            id => [.. OversizedMessage.ErrorJson(id, options.Name, options.MaxMessageBytes), (byte)'\n'],
            options.Traffic,
            options.OnOversized);
        var inner = await new StreamClientTransport(process.StandardInput.BaseStream, stdout, loggerFactory).ConnectAsync(cancellationToken);
        return new Session(inner, process, stderr, options.ShutdownTimeout);
    }

    private static bool Exited(Process process)
    {
        try
        {
            return process.HasExited;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    /// <summary>Reads stderr as lines of bounded length (never a whole line of unbounded size, as <c>Process.ErrorDataReceived</c> would).</summary>
    private static async Task ReadStderrAsync(Stream stderr, Action<string>? onLine)
    {
        var decoder = new UTF8Encoding(false).GetDecoder();
        var bytes = new byte[4096];
        var chars = new char[bytes.Length + 1];
        var line = new StringBuilder();
        var overflow = false;
        try
        {
            int read;
            while ((read = await stderr.ReadAsync(bytes)) > 0)
            {
                var count = decoder.GetChars(bytes, 0, read, chars, 0);
                foreach (var c in chars.AsSpan(0, count))
                {
                    if (c == '\n')
                    {
                        onLine?.Invoke(line.ToString().TrimEnd('\r') + (overflow ? "…" : string.Empty));
                        line.Clear();
                        overflow = false;
                    }
                    else if (line.Length < MaxStderrLineChars)
                    {
                        line.Append(c);
                    }
                    else
                    {
                        overflow = true;
                    }
                }
            }

            if (line.Length > 0)
            {
                onLine?.Invoke(line.ToString());
            }
        }
        catch (Exception)
        {
            // The process is gone; stderr is diagnostics only.
        }
    }

    /// <summary>The connected child: its messages, and its end (stdin closed, then the process tree killed after the grace period).</summary>
    private sealed class Session(ITransport inner, Process process, Task stderr, TimeSpan shutdownTimeout) : ITransport
    {
        private int _disposed;

        public string? SessionId => inner.SessionId;

        public ChannelReader<JsonRpcMessage> MessageReader => inner.MessageReader;

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default) =>
            inner.SendMessageAsync(message, cancellationToken);

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            try
            {
                // Closing stdin asks a well-behaved server to exit; one that does not is killed with its children. Only
                // then is the reading side disposed: its read ends at the end of stdout instead of waiting to be cancelled.
                try
                {
                    process.StandardInput.Close();
                }
                catch (IOException)
                {
                    // The child is gone already (a broken pipe): still wait for it below, so it is reaped.
                }

                using var grace = new CancellationTokenSource(shutdownTimeout);
                try
                {
                    await process.WaitForExitAsync(grace.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync(CancellationToken.None).WaitAsync(shutdownTimeout);
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException or System.ComponentModel.Win32Exception)
            {
                // Already gone, or unkillable: nothing more to do here.
            }
            finally
            {
                await inner.DisposeAsync();
                await stderr.WaitAsync(shutdownTimeout).ContinueWith(_ => { }, TaskScheduler.Default);

                // Asking is what reaps an exited child: disposed unasked, it would stay a zombie.
                _ = Exited(process);
                process.Dispose();
            }
        }
    }
}

/// <summary>How to start a stdio upstream.</summary>
internal sealed record StdioUpstreamOptions
{
    public required string Name { get; init; }

    public required string Command { get; init; }

    public IReadOnlyList<string> Arguments { get; init; } = [];

    public string? WorkingDirectory { get; init; }

    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(2);

    public Action<string>? StandardErrorLines { get; init; }

    public required long MaxMessageBytes { get; init; }

    public UpstreamTraffic? Traffic { get; init; }

    public Action<OversizedMessageReport>? OnOversized { get; init; }
}
