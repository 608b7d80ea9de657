using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Web.Mcp;

/// <summary>
/// A response body feature whose writes go through a stream wrapping Kestrel's own (the held header flush, the idle
/// streams' keep-alive). What bypasses that stream (an explicit start, a file, the end) goes to Kestrel's feature after
/// <see cref="BeforeDirectAsync"/>, the wrapper's chance to pass on or let go of what it holds.
/// </summary>
internal class WrappedResponseBody(IHttpResponseBodyFeature prior, Stream stream) : IHttpResponseBodyFeature
{
    private PipeWriter? _writer;

    public Stream Stream => stream;

    // Over the wrapping stream, not Kestrel's writer: what the SDK writes through it must pass the wrapper too.
    public PipeWriter Writer => _writer ??= PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));

    public void DisableBuffering() => prior.DisableBuffering();

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await BeforeDirectAsync();
        await prior.StartAsync(cancellationToken);
    }

    public async Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
    {
        await BeforeDirectAsync();
        await prior.SendFileAsync(path, offset, count, cancellationToken);
    }

    public async Task CompleteAsync()
    {
        await BeforeDirectAsync();
        if (_writer is not null)
        {
            await _writer.CompleteAsync();
        }

        await prior.CompleteAsync();
    }

    /// <summary>Passes on what a writer over the body still buffers (Kestrel's own writer would at the end).</summary>
    public async Task FlushWriterAsync()
    {
        if (_writer is not null)
        {
            try
            {
                await _writer.FlushAsync();
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                // The connection is gone or the writer was completed: nothing left to pass on.
            }
        }
    }

    /// <summary>Runs before a start, a file or the end reaches Kestrel's feature directly; nothing by default.</summary>
    protected virtual Task BeforeDirectAsync() => Task.CompletedTask;
}
