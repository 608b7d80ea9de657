using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Gateway.Core.Audit;
using Gateway.Core.Sessions;
using Gateway.Web.Authentication;
using Microsoft.AspNetCore.DataProtection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp.Relay;

/// <summary>
/// The questions an upstream asks an agent during a call on a 2025-11-25 session (sampling, elicitation, roots),
/// asked with ids that name this instance (<c>gw-{instance}-{n}.{seal}</c>, sealed to that instance and session), so the agent's answer is acted on whichever
/// instance the balancer sends it to: here it completes the question; on another instance it is left in the shared
/// database for this one (<see cref="IInstanceMailbox"/>), which <see cref="QuestionAnswerRelay"/> takes it from.
/// No affinity is needed, and the SDK's own bookkeeping of requests it sent (per process) is not used for them.
/// </summary>
/// <remarks>
/// An answer is accepted only on the session it was asked on: on another instance that session was already taken over
/// by the same agent with the same key (<see cref="SharedSessions"/>), so an answer cannot come from anyone else.
/// </remarks>
internal sealed partial class AgentQuestions(GatewayInstance instance, IInstanceMailbox mailbox, IDataProtectionProvider protection, TimeProvider time, ILogger<AgentQuestions> logger)
{
    private readonly string _instanceId = instance.Id;

    // Seals a question's id to the instance that asked it and the session it was asked on. The id is the agent's to
    // echo, so without a seal any agent could name an instance and have 4 MiB rows written to the shared mailbox for
    // answers to questions nobody asked. The key ring is the cluster's (instances share it), so any instance can check.
    private readonly IDataProtector _seal = protection.CreateProtector("Gateway.AgentQuestions.Id.v1");

    // The ids relayed lately: an answer sent again (a valid id replayed) is relayed once.
    private readonly Lock _relayedGate = new();
    private readonly HashSet<string> _relayed = new(StringComparer.Ordinal);
    private readonly Queue<string> _relayedOrder = new();
    private const int MaxRemembered = 4_096;

    /// <summary>Questions waiting at once on this instance; one more is refused (the upstream gets an error) rather than held.</summary>
    public const int MaxPending = 1_000;

    /// <summary>The mailbox kind of an answer relayed to the instance that asked.</summary>
    public const string AnswerKind = "answer";

    /// <summary>How long a relayed answer waits for its instance to take it (an instance that stopped never will).</summary>
    public static readonly TimeSpan AnswerLifetime = TimeSpan.FromMinutes(5);

    private const string Prefix = "gw-";

    private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private long _next;
    private long _othersAnswers;

    // Taken before a question is asked and given back when it ends: exact under concurrent asks, where a look at the
    // dictionary's count before adding could let several through at the bound.
    private int _slots;

    /// <summary>Gets the number of questions waiting for an answer.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Gets how many answers to other instances' questions were handled (relayed or dropped), for tests and diagnostics.</summary>
    public long OthersAnswers => Interlocked.Read(ref _othersAnswers);

    /// <summary>Asks the agent on <paramref name="target"/> (the call's stream, or the session's) and waits for its answer.</summary>
    public async Task<TResult> AskAsync<TParams, TResult>(
        McpServer target, string sessionId, string method, TParams parameters, CancellationToken cancellationToken)
        where TResult : class
    {
        if (Interlocked.Increment(ref _slots) > MaxPending)
        {
            Interlocked.Decrement(ref _slots);
            throw new McpProtocolException($"The gateway already waits for {MaxPending} answers from agents; ask again later.", McpErrorCode.InternalError);
        }

        var name = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{_instanceId}-{Interlocked.Increment(ref _next)}");
        var id = Prefix + name + "." + Base64Url.EncodeToString(_seal.Protect(Encoding.UTF8.GetBytes(SealedText(name, sessionId))));
        var pending = new Pending(sessionId);
        _pending[id] = pending;

        try
        {
            // Sent through the SDK, which answers it when the agent's answer comes back to this instance. An answer that
            // went to another instance comes back through the mailbox instead; the SDK's wait is then given up (it tells
            // the agent the request was cancelled, which a client ignores for a request it already answered).
            using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var sent = target.SendRequestAsync(new JsonRpcRequest { Id = new RequestId(id), Method = method, Params = JsonSerializer.SerializeToNode(parameters, TypeInfo<TParams>.Value) }, giveUp.Token);
            if (await Task.WhenAny(sent, pending.Answer.Task) == sent)
            {
                return Read<TResult>((await sent).Result, method);
            }

            await giveUp.CancelAsync();
            _ = sent.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return pending.Answer.Task.Result switch
            {
                JsonRpcResponse response => Read<TResult>(response.Result, method),
                JsonRpcError error => throw new McpProtocolException(error.Error.Message, (McpErrorCode)error.Error.Code),
                _ => throw new McpProtocolException($"The agent's answer to {method} was empty.", McpErrorCode.InvalidParams),
            };
        }
        catch (JsonException ex)
        {
            throw new McpProtocolException($"The agent's answer to {method} is not what the method returns: {ex.Message}", McpErrorCode.InvalidParams);
        }
        catch (Exception ex) when (ex is not McpProtocolException and not OperationCanceledException)
        {
            // The upstream sees only the SDK's generic "An error occurred."; the reason is kept here.
            LogAskFailed(method, ex);
            throw;
        }
        finally
        {
            _pending.TryRemove(id, out _);
            Interlocked.Decrement(ref _slots);
        }
    }

    private static TResult Read<TResult>(JsonNode? result, string method)
        where TResult : class =>
        (result is null ? null : result.Deserialize(TypeInfo<TResult>.Value)) ?? throw new McpProtocolException($"The agent's answer to {method} was empty.", McpErrorCode.InvalidParams);

    /// <summary>
    /// The incoming message filter: an answer to a question another instance asked is relayed to it here and goes no
    /// further (this instance's SDK did not ask it); every other message goes on, answers to this instance's questions
    /// to the SDK that waits for them. Static, so a tool call costs two type tests and no service lookup.
    /// </summary>
    public static McpMessageFilter Filter => next => async (context, cancellationToken) =>
    {
        if (context.JsonRpcMessage is JsonRpcResponse or JsonRpcError
            && context.JsonRpcMessage is JsonRpcMessageWithId { Id.Id: string id }
            && id.StartsWith(Prefix, StringComparison.Ordinal)
            && context.Server.SessionId is { } sessionId
            && context.Services?.GetService<AgentQuestions>() is { } questions
            && questions.AskerOf(id, sessionId) is { } asker
            && asker != questions._instanceId)
        {
            // Each relayed answer is a row in the shared mailbox: answers count against the agent's bound on requests
            // other than tool calls, and past it are dropped; the same answer is relayed once, and one that could not be
            // relayed (over the bound, the database failing) may be sent again.
            if (questions.FirstRelayOf(id))
            {
                var allowed = context.Services.GetService<Gateway.Web.Limits.OtherRequestRate>() is not { } rate
                    || context.User.GetAgent() is not { } agent
                    || rate.TakeAnswer(agent);
                if (!allowed || !await questions.RelayAsync(asker, sessionId, context.JsonRpcMessage, cancellationToken))
                {
                    questions.ForgetRelay(id);
                }
            }

            Interlocked.Increment(ref questions._othersAnswers);
            return;
        }

        await next(context, cancellationToken);
    };

    /// <summary>Acts on an answer relayed from another instance.</summary>
    public void Deliver(InstanceMessage message)
    {
        JsonRpcMessage? answer;
        try
        {
            answer = JsonSerializer.Deserialize(message.Payload, TypeInfo<JsonRpcMessage>.Value);
        }
        catch (JsonException)
        {
            answer = null;
        }

        if (answer is JsonRpcMessageWithId { Id.Id: string id })
        {
            Complete(id, message.SessionId, answer);
        }
    }

    /// <summary>Leaves the answer for the instance that asked; false when it could not (too large, the database failing).</summary>
    private async Task<bool> RelayAsync(string asker, string sessionId, JsonRpcMessage answer, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.Serialize(answer, TypeInfo<JsonRpcMessage>.Value);
        if (payload.Length > IInstanceMailbox.MaxPayloadChars)
        {
            LogAnswerTooLarge(asker, payload.Length);
            return false;
        }

        try
        {
            await mailbox.PostAsync(new InstanceMessage(asker, AnswerKind, sessionId, payload, time.GetUtcNow() + AnswerLifetime), cancellationToken);
            LogRelayed(asker);
            return true;
        }
        catch (Exception ex) when (ex is DbException or Microsoft.EntityFrameworkCore.DbUpdateException)
        {
            // The asker's call then ends with its own timeout, as when an agent does not answer.
            LogRelayFailed(asker, ex.Message);
            return false;
        }
    }

    private void Complete(string id, string sessionId, JsonRpcMessage answer)
    {
        if (_pending.TryGetValue(id, out var pending) && pending.SessionId == sessionId)
        {
            pending.Answer.TrySetResult(answer);
        }
        else
        {
            LogUnknownAnswer(id);
        }
    }

    /// <summary>
    /// The instance that asked the question <paramref name="id"/> (<c>gw-{instance}-{n}.{seal}</c>) on
    /// <paramref name="sessionId"/>; null when the id is not of that shape or its seal is not the cluster's for that
    /// session (made up, or answered on another session).
    /// </summary>
    private string? AskerOf(string id, string sessionId)
    {
        var dot = id.IndexOf('.', Prefix.Length);
        var end = id.IndexOf('-', Prefix.Length);
        if (dot < 0 || end <= Prefix.Length || end > dot || end - Prefix.Length > 32)
        {
            return null;
        }

        try
        {
            var unsealed = Encoding.UTF8.GetString(_seal.Unprotect(Base64Url.DecodeFromChars(id.AsSpan(dot + 1))));
            return unsealed == SealedText(id[Prefix.Length..dot], sessionId) ? id[Prefix.Length..end] : null;
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            return null;
        }
    }

    /// <summary>What a question's id seals: its name (<c>{instance}-{n}</c>) and the session it was asked on.</summary>
    private static string SealedText(string name, string sessionId) => name + "\n" + sessionId;

    /// <summary>Forgets that <paramref name="id"/> was relayed (it was not, after all).</summary>
    private void ForgetRelay(string id)
    {
        lock (_relayedGate)
        {
            // Left in the order queue: it goes from there in its turn, and removing an id not in the set is harmless.
            _relayed.Remove(id);
        }
    }

    /// <summary>Whether <paramref name="id"/> was not relayed lately (and notes it); of the same answer sent again, only the first goes on.</summary>
    private bool FirstRelayOf(string id)
    {
        lock (_relayedGate)
        {
            if (!_relayed.Add(id))
            {
                return false;
            }

            _relayedOrder.Enqueue(id);
            if (_relayedOrder.Count > MaxRemembered)
            {
                _relayed.Remove(_relayedOrder.Dequeue());
            }

            return true;
        }
    }

    /// <summary>The SDK's own (source-generated) contract for <typeparamref name="T"/>, looked up once.</summary>
    private static class TypeInfo<T>
    {
        public static readonly JsonTypeInfo<T> Value = (JsonTypeInfo<T>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(T));
    }

    private sealed class Pending(string sessionId)
    {
        public string SessionId { get; } = sessionId;

        public TaskCompletionSource<JsonRpcMessage> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Asking the agent ({Method}) failed.")]
    private partial void LogAskFailed(string method, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Relayed an agent's answer to instance {Instance}, which asked the question.")]
    private partial void LogRelayed(string instance);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An agent's answer for instance {Instance} could not be relayed ({Reason}); the call that asked ends with its timeout.")]
    private partial void LogRelayFailed(string instance, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An agent's answer for instance {Instance} is too large to relay ({Length} characters); the call that asked ends with its timeout.")]
    private partial void LogAnswerTooLarge(string instance, int length);

    [LoggerMessage(Level = LogLevel.Debug, Message = "An answer to question {Id} arrived, but no question of that session waits for it (answered, cancelled or timed out).")]
    private partial void LogUnknownAnswer(string id);
}
