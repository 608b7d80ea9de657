using Gateway.Core.Pipeline;
using Gateway.Web.Upstreams.Limits;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace Gateway.Web.Upstreams;

public sealed partial class UpstreamConnection
{
    private int _inFlight;
    private volatile TaskCompletionSource? _idle;

    // When the shared client last got an answer to a forwarded request (TimeProvider timestamp): proof the upstream
    // was alive then, so the health probe can wait an interval from it (Supervision).
    private long _answeredAt;

    /// <summary>Gets the direct way for tool calls over <paramref name="client"/> if it is the shared client and has one (streamable HTTP).</summary>
    internal DirectToolCalls? DirectFor(McpClient client) => _link is { } link && link.Client == client ? link.Direct : null;

    /// <summary>Forwards one request over the shared connection, bounded by the server's call timeout.</summary>
    public Task<T> InvokeAsync<T>(Func<McpClient, CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        var client = _client;
        return client is null || State != UpstreamState.Connected
            ? throw new UpstreamUnavailableException(Name, LastError ?? State.ToString().ToLowerInvariant())
            : InvokeAsync(client, call, cancellationToken);
    }

    /// <summary>Forwards one request over <paramref name="client"/> (the shared one or a session bridge), bounded by the server's call timeout.</summary>
    public async Task<T> InvokeAsync<T>(McpClient client, Func<McpClient, CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            return await InvokeCountedAsync(client, call, cancellationToken);
        }
        finally
        {
            if (Interlocked.Decrement(ref _inFlight) == 0)
            {
                _idle?.TrySetResult();
            }
        }
    }

    /// <summary>Waits until no forwarded call is running on this connection, at most <paramref name="grace"/>.</summary>
    public async Task DrainAsync(TimeSpan grace)
    {
        var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _idle = idle;
        if (Volatile.Read(ref _inFlight) == 0)
        {
            return;
        }

        try
        {
            await idle.Task.WaitAsync(grace);
        }
        catch (TimeoutException)
        {
            // Calls still running after the grace period are cut off with the connection.
        }
    }

    /// <summary>Notes an answer on the shared client (a session's own client is another connection, maybe another process).</summary>
    private void Answered(McpClient client)
    {
        if (client == _client)
        {
            Volatile.Write(ref _answeredAt, _time.GetTimestamp());
        }
    }

    private async Task<T> InvokeCountedAsync<T>(McpClient client, Func<McpClient, CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Definition.CallTimeout);
        try
        {
            var result = await call(client, timeout.Token);
            Answered(client);
            return result;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
        {
            // Whatever the client threw once the deadline passed (cancellation, or the upstream's answer to it),
            // the cause is the timeout.
            throw new UpstreamTimeoutException(Name, Definition.CallTimeout);
        }
        catch (McpProtocolException ex) when (ex.ErrorCode == (McpErrorCode)OversizedMessage.ErrorCode)
        {
            // The gateway's stand-in for a message over the size limit (FramedMessageLimitStream), not the upstream's error.
            throw new UpstreamResultTooLargeException(Name, _factory.ResultLimit(Definition));
        }
        catch (UpstreamResultTooLargeException)
        {
            // An HTTP body over the limit: the connection is fine, only this answer was refused.
            throw;
        }
        catch (Exception ex) when (ex is McpProtocolException or Gateway.Core.Pipeline.UpstreamInputRequiredException or Gateway.Core.Pipeline.UpstreamTaskCreatedException)
        {
            // The upstream answered (a JSON-RPC error, a request for the agent's input, a task handle): pass it through,
            // an error's text and data without the secrets it may echo.
            Answered(client);
            if (ex is McpProtocolException protocol && Redacted(protocol) is { } redacted)
            {
                throw redacted;
            }

            throw;
        }
        catch (System.Text.Json.JsonException ex)
        {
            // The upstream answered, with a result the reader could not take: this answer is refused, the connection
            // was fine (before, this was taken for the connection failing: "unavailable", and a health check).
            Answered(client);
            throw new UpstreamInvalidAnswerException(Name, Reason(ex.Message));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Cancelled by neither the caller nor the deadline: the client was closed under the call (its connection
            // closed, as an edit of the server closes it, or a session bridge replaced), and a closed client fails what
            // it waits for as cancelled. Passed on as a cancellation, the SDK answered the agent with its bare internal
            // error ("An error occurred.").
            throw new UpstreamUnavailableException(Name, "the connection closed during the call");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The connection itself failed: check it now rather than at the next health tick.
            if (client == _client)
            {
                Wake();
            }

            throw new UpstreamUnavailableException(Name, RedactError(ex.Message));
        }
    }

    /// <summary>The reader's words on an answer it could not take, without the position (" | LineNumber: …"), bounded and without the server's secrets.</summary>
    private string Reason(string message) => Protocol.ParserMessages.Bounded(RedactError(message), UpstreamInvalidAnswerException.MaxReason);

    /// <summary>An upstream's error text without the server's secrets (an HTTP error's body is in the SDK's message).</summary>
    private string RedactError(string text) => _factory.RedactError(Definition, text);

    /// <summary>The upstream's JSON-RPC error again without the secrets its message or data echo; null when it has none.</summary>
    private McpProtocolException? Redacted(McpProtocolException error)
    {
        var message = RedactError(error.Message);
        var leaking = error.Data.Keys.Cast<object>().Where(k => error.Data[k] is { } value && DataText(value) is { } text && !ReferenceEquals(RedactError(text), text)).ToList();
        if (ReferenceEquals(message, error.Message) && leaking.Count == 0)
        {
            return null;
        }

        var redacted = error is UrlElicitationRequiredException elicitation
            ? new UrlElicitationRequiredException(message, elicitation.Elicitations)
            : new McpProtocolException(message, error.ErrorCode);
        foreach (System.Collections.DictionaryEntry entry in error.Data)
        {
            // A field that echoes a secret is left out whole: its structure is the upstream's, the agent does without it.
            if (!leaking.Contains(entry.Key))
            {
                redacted.Data[entry.Key] = entry.Value;
            }
        }

        return redacted;
    }

    private static string? DataText(object value) => value switch
    {
        string text => text,
        System.Text.Json.JsonElement element => element.GetRawText(),
        System.Text.Json.Nodes.JsonNode node => node.ToJsonString(),
        _ => null,
    };
}
