using System.Collections.Concurrent;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Core.Audit;
using Gateway.Core.Sessions;
using Gateway.Web.Hosting;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Mcp.RoundTrips;

/// <summary>
/// Goes on with a parked call (<see cref="ParkedCall"/>) when the agent's retry brings its answers: here when the call
/// waits on this instance, else through the mailbox (<see cref="IInstanceMailbox"/>) to the instance it waits on, which
/// hands the answers on and sends back what came next (the result, the next questions, or an error). The retry may so
/// reach any instance, as a stateless 2026-07-28 request should: no balancer affinity is needed.
/// </summary>
internal sealed partial class ParkedCallRelay(
    ParkedCalls parked,
    RequestStateSeal seal,
    IInstanceMailbox mailbox,
    GatewayInstance instance,
    IOptionsMonitor<GatewayOptions> options,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<ParkedCallRelay> logger)
{
    /// <summary>The mailbox kind carrying a retry's answers to the instance the call waits on.</summary>
    public const string ResumeKind = "resume-parked";

    /// <summary>The mailbox kind carrying what came next back to the instance the retry reached.</summary>
    public const string OutcomeKind = "parked-outcome";

    /// <summary>Retries waiting at once on this instance for another instance's answer; one more is refused.</summary>
    public const int MaxWaiting = 1_000;

    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonObject>> _waiting = new(StringComparer.Ordinal);

    // Taken before a retry waits and given back when it ends: exact under concurrent retries (see AgentQuestions).
    private int _slots;

    /// <summary>Gets how many retries wait here for another instance.</summary>
    public int PendingCount => _waiting.Count;

    /// <summary>Hands the agent's answers to the parked call <paramref name="round"/> names, and returns what came next.</summary>
    public async Task<CallToolResult> ResumeAsync(SealedRound round, IDictionary<string, InputResponse>? answers, CancellationToken cancellationToken)
    {
        if (round.ParkedOn == instance.Id)
        {
            var waiting = parked.Find(round.Parked!) ?? throw new McpProtocolException(RequestStateSeal.Invalid, McpErrorCode.InvalidParams);
            waiting.Answer(answers);
            return await NextRoundAsync(waiting, round.Agent, round.User, round.Name, round.ArgumentsSha256, cancellationToken);
        }

        if (Interlocked.Increment(ref _slots) > MaxWaiting)
        {
            Interlocked.Decrement(ref _slots);
            throw new McpProtocolException("Too many retries wait for other gateway instances; retry later.", McpErrorCode.InternalError);
        }

        var correlation = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var reply = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[correlation] = reply;
        try
        {
            var request = new JsonObject
            {
                ["replyTo"] = instance.Id,
                ["parked"] = round.Parked,
                ["agent"] = round.Agent,
                ["user"] = round.User,
                ["name"] = round.Name,
                ["argumentsSha256"] = round.ArgumentsSha256,
                ["answers"] = answers is null ? null : JsonSerializer.SerializeToNode(answers, McpJsonUtilities.DefaultOptions),
            }.ToJsonString();
            if (request.Length > IInstanceMailbox.MaxPayloadChars)
            {
                throw new McpProtocolException("The answers are too large to relay to the gateway instance the call waits on.", McpErrorCode.InvalidParams);
            }

            var bound = options.CurrentValue.Mcp.InputRequiredLifetime;
            await mailbox.PostAsync(new InstanceMessage(round.ParkedOn!, ResumeKind, correlation, request, time.GetUtcNow() + bound), cancellationToken);
            JsonObject outcome;
            try
            {
                outcome = await reply.Task.WaitAsync(bound, time, cancellationToken);
            }
            catch (TimeoutException)
            {
                throw new McpProtocolException($"The gateway instance this call waits on ('{round.ParkedOn}') did not answer; it may have stopped.", McpErrorCode.InternalError);
            }

            return Read(outcome);
        }
        catch (Exception ex) when (ex is DbException or Microsoft.EntityFrameworkCore.DbUpdateException)
        {
            throw new McpProtocolException("The gateway could not reach the instance this call waits on (its database did not answer); retry later.", McpErrorCode.InternalError);
        }
        finally
        {
            _waiting.TryRemove(correlation, out _);
            Interlocked.Decrement(ref _slots);
        }
    }

    /// <summary>The result of a parked call, or its upstream's next questions as the agent's input_required.</summary>
    public Task<CallToolResult> NextRoundAsync(ParkedCall waiting, long agent, string? user, string name, string? argumentsSha256, CancellationToken cancellationToken) =>
        waiting.NextAsync(
            questions => new InputRequiredException(new InputRequiredResult
            {
                InputRequests = questions,
                RequestState = seal.Seal(new SealedRound(agent, RequestMethods.ToolsCall, name, argumentsSha256, waiting.Server, null, null, 0, null, null) { Parked = waiting.Id, User = user }),
            }),
            cancellationToken);

    /// <summary>Another instance's retry of a call parked here (<see cref="ResumeKind"/>): answered in the background.</summary>
    public void OnResume(InstanceMessage message) => _ = ResumeHereAsync(message);

    /// <summary>What came next for a retry that waits here (<see cref="OutcomeKind"/>).</summary>
    public void OnOutcome(InstanceMessage message)
    {
        if (_waiting.TryGetValue(message.SessionId, out var reply) && JsonNode.Parse(message.Payload) is JsonObject outcome)
        {
            reply.TrySetResult(outcome);
        }
    }

    private async Task ResumeHereAsync(InstanceMessage message)
    {
        JsonObject outcome;
        string? replyTo = null;
        try
        {
            var request = JsonNode.Parse(message.Payload)!.AsObject();
            replyTo = request["replyTo"]!.GetValue<string>();
            var waiting = parked.Find(request["parked"]!.GetValue<string>())
                ?? throw new McpProtocolException(RequestStateSeal.Invalid, McpErrorCode.InvalidParams);
            waiting.Answer(request["answers"]?.Deserialize<IDictionary<string, InputResponse>>(McpJsonUtilities.DefaultOptions));
            var result = await NextRoundAsync(waiting, request["agent"]!.GetValue<long>(), request["user"]?.GetValue<string>(), request["name"]!.GetValue<string>(), request["argumentsSha256"]?.GetValue<string>(), lifetime.ApplicationStopping);
            outcome = new JsonObject { ["result"] = JsonSerializer.SerializeToNode(result, McpJsonUtilities.DefaultOptions) };
        }
        catch (InputRequiredException asked)
        {
            outcome = new JsonObject { ["inputRequired"] = JsonSerializer.SerializeToNode(asked.Result, McpJsonUtilities.DefaultOptions) };
        }
        catch (McpProtocolException refused)
        {
            outcome = Error(refused.ErrorCode, refused.Message);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or NullReferenceException or OperationCanceledException)
        {
            outcome = Error(McpErrorCode.InternalError, "The gateway instance the call waits on could not go on with it.");
            LogResumeFailed(ex.Message);
        }

        if (replyTo is null)
        {
            return;
        }

        var payload = outcome.ToJsonString();
        if (payload.Length > IInstanceMailbox.MaxPayloadChars)
        {
            payload = Error(McpErrorCode.InternalError, "The call's result is too large to relay between gateway instances.").ToJsonString();
        }

        try
        {
            await mailbox.PostAsync(new InstanceMessage(replyTo, OutcomeKind, message.SessionId, payload, message.ExpiresAt), CancellationToken.None);
        }
        catch (Exception ex) when (ex is DbException or Microsoft.EntityFrameworkCore.DbUpdateException)
        {
            // The retry then ends with its own bound; the call's result is audited here all the same.
            LogResumeFailed(ex.Message);
        }
    }

    private static JsonObject Error(McpErrorCode code, string message) => new() { ["error"] = new JsonObject { ["code"] = (int)code, ["message"] = message } };

    private static CallToolResult Read(JsonObject outcome)
    {
        if (outcome["inputRequired"] is JsonObject inputRequired)
        {
            throw new InputRequiredException(inputRequired.Deserialize<InputRequiredResult>(McpJsonUtilities.DefaultOptions)!);
        }

        if (outcome["error"] is JsonObject error)
        {
            throw new McpProtocolException(error["message"]?.GetValue<string>() ?? "The call failed.", (McpErrorCode)(error["code"]?.GetValue<int>() ?? (int)McpErrorCode.InternalError));
        }

        return outcome["result"]?.Deserialize<CallToolResult>(McpJsonUtilities.DefaultOptions)
            ?? throw new McpProtocolException("The gateway instance the call waits on sent no result.", McpErrorCode.InternalError);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Going on with a parked call for another instance's retry failed: {Reason}")]
    private partial void LogResumeFailed(string reason);
}
