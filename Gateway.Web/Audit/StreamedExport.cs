using System.IO.Pipelines;
using Microsoft.Net.Http.Headers;

namespace Gateway.Web.Audit;

/// <summary>
/// An export written straight into its response, as fast as the client takes it: nothing goes to disk, the first bytes
/// leave at once, and memory holds a page of entries and the pipe's buffer whatever the export's size.
/// </summary>
/// <remarks>
/// The exporter reads the trail with blocking ADO.NET, so it runs on a thread of its own and writes into a pipe the
/// response copies from; a client that reads slowly holds that thread in the pipe's backpressure, not a thread-pool
/// thread, and no database read open (the reader pages). The whole-trail read's place is given back when the writer
/// stops, before the response's last bytes go out, so the client that has the whole file can start the next read.
/// </remarks>
internal sealed partial class StreamedExport : IAsyncDisposable
{
    /// <summary>How long a client may take no bytes of the download before it is cut (its place freed for the next read).</summary>
    internal static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(30);

    private readonly Pipe _pipe = new();
    private readonly IDisposable _turn;
    private readonly CancellationTokenSource _stop;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _writer = Task.CompletedTask;

    private StreamedExport(IDisposable turn, CancellationToken requestAborted)
    {
        _turn = turn;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
    }

    /// <summary>
    /// Starts writing the export on its own thread and waits until its first reads succeeded; their failure (a database
    /// that is down) is thrown here, before any answer is made, for the endpoint to map.
    /// </summary>
    /// <param name="turn">The whole-trail read's place (<see cref="AuditReadGate"/>), held until the writer stops.</param>
    /// <param name="write">Writes the export to the stream; calls its <see cref="Action"/> once its first reads succeeded.</param>
    public static async Task<StreamedExport> StartAsync(HttpContext context, IDisposable turn, Action<Stream, Action, CancellationToken> write)
    {
        var export = new StreamedExport(turn, context.RequestAborted);

        // Whatever becomes of the answer (executed, failed, never executed), the writer is stopped and awaited with the request.
        context.Response.RegisterForDisposeAsync(export);
        export._writer = Task.Factory.StartNew(() => export.Write(write), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await export._started.Task;
        return export;
    }

    /// <summary>The answer: the export as a download named <paramref name="fileName"/>.</summary>
    public IResult Result(string contentType, string fileName) => new Download(this, contentType, fileName);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _pipe.Reader.CompleteAsync();
        await _writer;
        _stop.Dispose();
    }

    private void Write(Action<Stream, Action, CancellationToken> write)
    {
        Exception? failure = null;
        try
        {
            using var output = _pipe.Writer.AsStream(leaveOpen: true);
            write(output, () => _started.TrySetResult(), _stop.Token);
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        finally
        {
            _turn.Dispose();
        }

        // After the place is given back: the response ends when the pipe does.
        _pipe.Writer.Complete(failure);
        if (failure is null)
        {
            _started.TrySetResult();
        }
        else
        {
            _started.TrySetException(failure);
        }
    }

    private sealed partial class Download(StreamedExport export, string contentType, string fileName) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.ContentType = contentType;
            var disposition = new ContentDispositionHeaderValue("attachment");
            disposition.SetHttpFileName(fileName);
            response.Headers.ContentDisposition = disposition.ToString();
            var logger = httpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger<StreamedExport>();
            try
            {
                await CopyAsync(export._pipe.Reader, response.Body, httpContext.RequestAborted);
            }
            catch (TimeoutException)
            {
                // Connected but taking nothing: it would hold the instance's one whole-trail read for as long as it liked
                // (Kestrel's minimum data rate allows a pending 64 KB minutes).
                LogStalled(logger, fileName, StallLimit.TotalSeconds);
                httpContext.Abort();
            }
            catch (Exception ex) when (!httpContext.RequestAborted.IsCancellationRequested)
            {
                // The headers are gone: the only way left to say the file is not whole is to end the response without
                // its last chunk, which every client reports as a failed download.
                LogCut(logger, fileName, ex);
                httpContext.Abort();
            }
            catch (Exception) when (httpContext.RequestAborted.IsCancellationRequested)
            {
                // The client went away; the writer stops at its next entry.
            }
        }

        /// <summary>Copies the export to the response; a write the client leaves waiting for <see cref="StallLimit"/> ends it.</summary>
        private static async Task CopyAsync(PipeReader reader, Stream body, CancellationToken aborted)
        {
            // One token for every write (a large export is hundreds of thousands of them): its timer is restarted per write
            // and stopped when the write completes.
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            while (true)
            {
                var read = await reader.ReadAsync(aborted);
                foreach (var segment in read.Buffer)
                {
                    stall.CancelAfter(StallLimit);
                    try
                    {
                        await body.WriteAsync(segment, stall.Token);
                    }
                    catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
                    {
                        throw new TimeoutException();
                    }

                    stall.CancelAfter(Timeout.InfiniteTimeSpan);
                }

                reader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    return;
                }
            }
        }

        [LoggerMessage(Level = LogLevel.Warning, Message = "The client of the audit export {File} took nothing for {Seconds} s; the download was cut.")]
        private static partial void LogStalled(ILogger logger, string file, double seconds);

        [LoggerMessage(Level = LogLevel.Warning, Message = "The audit export {File} failed after its first bytes were sent; the download was cut.")]
        private static partial void LogCut(ILogger logger, string file, Exception exception);
    }
}
