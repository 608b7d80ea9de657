using System.Diagnostics;
using Gateway.Core.Agents;
using Gateway.Core.Audit;
using Gateway.Core.Catalog;
using Gateway.Core.Limits;
using Gateway.Core.Guardrails;
using Gateway.Core.Policy;

namespace Gateway.Core.Pipeline;

/// <summary>
/// The spine every <c>tools/call</c> travels, written once:
/// authenticate (done by the host) → resolve tool → grant check → limits → policy → (approval wait) → audit "started" (committed)
/// → forward → guard result → audit completion.
/// </summary>
/// <remarks>
/// Protocol-agnostic: the host passes the call (<see cref="ToolCall"/>) and its port to the upstreams
/// (<see cref="IToolCallForwarder{TTool, TResult}"/>), and translates the outcome. Every decision of the gateway's is
/// an outcome value; only the upstream's own failures (and the agent's cancellation) are thrown. Credential injection
/// happens in the forwarder's upstream connection.
/// </remarks>
public sealed class ToolCallPipeline(IAuditSink audit, IPolicySource policies, IApprovalGate approvals, PolicyMessages messages, TimeProvider time, ArgumentRedactor? redactor = null, GatewayInstance? instance = null, CallLimiter? limiter = null, PipelineMeters? meters = null, ICallerStanding? standing = null)
{
    private readonly ArgumentRedactor _redactor = redactor ?? new ArgumentRedactor();

    /// <summary>The message of every refusal that must not reveal whether a tool exists.</summary>
    public static string UnknownTool(string name) => $"Unknown tool: '{name}'.";

    /// <summary>The refusal of an upstream name that several granted servers' tools have.</summary>
    public static string AmbiguousTool(string name, IReadOnlyList<string> candidates) =>
        $"Unknown tool: '{name}'. Several servers have a tool of that name; call it as {string.Join(" or ", candidates.Take(8).Select(c => $"'{c}'"))}.";

    /// <summary>Runs one tool call through the pipeline.</summary>
    /// <param name="call">The call as the agent made it.</param>
    /// <param name="forwarder">The port to the upstreams: the catalog, the forward, and what is known of results.</param>
    /// <param name="cancellationToken">Cancelled when the agent cancels or disconnects.</param>
    /// <returns>The result or the gateway's refusal, as a value. The upstream's own failures are audited and thrown.</returns>
    public async ValueTask<ToolCallOutcome<TResult>> RunAsync<TTool, TResult>(ToolCall call, IToolCallForwarder<TTool, TResult> forwarder, CancellationToken cancellationToken)
    {
        var (agent, toolName, arguments) = call;

        // The call's span, current for the rest of this method (and only here: an async method's changes to the current
        // span do not reach its caller); ended on every way out, after the completion entry tagged it (FinishAsync).
        using var span = ToolCallTracing.StartToolCall(agent, toolName);
        var started = time.GetUtcNow();
        var ticks = Stopwatch.GetTimestamp();
        var record = new AuditRecord
        {
            Timestamp = started,
            Kind = AuditKinds.ToolCall,
            Actor = agent.ActorName,
            Tool = call.VirtualServer is { } virtualServer ? $"{virtualServer}/{toolName}" : toolName,
            Decision = "deny",
            Outcome = AuditOutcomes.Denied,
        };

        // Arguments that have no canonical form (a number beyond IEEE 754 double) cannot be hashed for the audit,
        // and no upstream could read them reliably either: refuse them.
        if (!CanonicalJson.TrySha256(arguments, out var argumentsHash))
        {
            var invalid = $"Invalid arguments for '{toolName}': a number is outside the range of a double.";
            await FinishAsync(span, record with { Error = invalid }, CancellationToken.None);
            return new ToolCallOutcome<TResult>(default, Refusal.InvalidArguments, invalid);
        }

        // Findings of the arguments (token-shaped values) and, later, of the result; recorded with the call's entries.
        var scan = new ResultScan();
        record = record with { ArgumentsSha256 = argumentsHash, ArgumentsRedacted = _redactor.Redact(arguments, scan), Findings = scan.ToAuditJson() };

        // A granted tool of an upstream that is down fails fast, and says why.
        if (!forwarder.Tools.TryResolve(toolName, out var entry)
            && forwarder.OfflineTools.TryResolve(toolName, out var gone) && agent.Grants.Allows(gone.Server, gone.OriginalName, gone.Class, started))
        {
            var unavailable = new UpstreamUnavailableException(gone.Server).Message;
            await FinishAsync(span, record with { Server = gone.Server, Decision = "allow", Outcome = AuditOutcomes.Error, Error = unavailable }, CancellationToken.None);
            return new ToolCallOutcome<TResult>(default, Refusal.Unavailable, unavailable);
        }

        // Else the upstream's own name of one granted tool (an MCP App calls its server's tools so); recorded under the
        // name the tool is exposed as, like any other call of it.
        IReadOnlyList<string> candidates = [];
        if (entry is null && forwarder.Tools.ResolveUpstreamName(toolName, agent.Grants, started, out candidates) is { } byUpstreamName)
        {
            entry = byUpstreamName;
            record = record with { Tool = call.VirtualServer is { } view ? $"{view}/{entry.ExposedName}" : entry.ExposedName };
        }

        // Resolve and check the grant. An ungranted tool gets the same answer as an unknown one: the agent never
        // learns the names of tools it may not call.
        if (entry is null || !agent.Grants.Allows(entry.Server, entry.OriginalName, entry.Class, started))
        {
            var message = candidates.Count > 1 ? AmbiguousTool(toolName, candidates) : UnknownTool(toolName);
            await FinishAsync(span, record with { Server = entry?.Server, Error = message }, CancellationToken.None);
            return new ToolCallOutcome<TResult>(default, Refusal.UnknownTool, message);
        }

        // Limits after the grant (an ungranted name never counts against the agent) and before policy and approval, so
        // a refused call is audited as denied and never reaches an upstream. The lease is the call's slot in flight:
        // a using declaration, so every way out of this method (refusal, error, cancellation, result) gives it back.
        ToolCallTracing.Resolved(span, entry.Server, entry.OriginalName, entry.Class);
        using var lease = limiter?.Acquire(agent, entry.Server, entry.OriginalName, started);
        if (lease is { IsRefused: true })
        {
            meters?.LimitRefused(lease.Refused);
            await FinishAsync(span, record with { Server = entry.Server, Error = lease.Message }, CancellationToken.None);
            return new ToolCallOutcome<TResult>(default, Refusal.Limited, lease.Message) { RetryAfter = lease.RetryAfter, Limit = lease.Refused };
        }

        // Policy, decided on the call's own facts: who, which tool of which class, with which arguments.
        // Also on the server's labels and on what the session received before (see Guardrails).
        var guard = forwarder.Guard;
        var serverGuard = guard?.Servers.For(entry.Server);
        var policy = policies.Current;
        var session = guard?.Session;
        if (session is { IsShared: true } && policy.ReadsSessionFacts)
        {
            // What the session received on other instances too; only when a rule looks at it.
            session = await session.RefreshAsync(cancellationToken);
        }

        var input = new PolicyInput(agent.Name, agent.Tags, entry.Server, entry.OriginalName, entry.Class, arguments, serverGuard?.Settings.Labels, session) { User = agent.User, UserGroups = agent.UserGroups };
        if (call.Continuing is { } continuing)
        {
            // The round's effect was decided by its first round; the secrets mode is the rules' of now, for the
            // result this round may bring.
            UseSecrets(policy.Evaluate(input), scan);
            return await ForwardAsync(record with { Server = entry.Server, Decision = continuing.Decision, Rule = continuing.Rule, CallId = continuing.RoundCallId }, entry, continuing, forwarder, guard, serverGuard, scan, ticks, span, cancellationToken);
        }

        var decision = policy.Evaluate(input);
        UseSecrets(decision, scan);
        record = record with { Server = entry.Server, Decision = decision.Effect.Name(), Rule = decision.Rule };
        if (decision.Effect == PolicyEffect.Block)
        {
            var blocked = messages.ShowRuleNames && decision.Rule is not null
                ? $"Blocked by policy rule '{decision.Rule}': {decision.Reason}"
                : "Blocked by policy.";
            await FinishAsync(span, record with { Error = decision.Reason }, CancellationToken.None);
            return new ToolCallOutcome<TResult>(default, Refusal.Policy, blocked);
        }

        if (decision.Effect == PolicyEffect.Escalate)
        {
            ApprovalVerdict verdict;
            lease?.Park();
            var waiting = Stopwatch.GetTimestamp();
            var waitSpan = ToolCallTracing.StartChild(ToolCallTracing.ApprovalWaitSpan);
            meters?.ApprovalWaiting(1);
            try
            {
                verdict = await approvals.RequestAsync(
                    new ApprovalRequest(agent, entry.Server, entry.OriginalName, forwarder.DefinitionSha256(entry.Item), arguments, argumentsHash, decision, call.Heartbeat),
                    cancellationToken);
                waitSpan?.SetTag(ToolCallTracing.Tags.Approved, verdict.Approved);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The agent gave up while waiting; the approval stays pending for its retry.
                await FinishAsync(span, record with { Outcome = AuditOutcomes.Cancelled, Error = "the agent stopped waiting for approval" }, CancellationToken.None);
                throw;
            }
            finally
            {
                waitSpan?.Dispose();
                meters?.ApprovalWaiting(-1);
            }

            var waited = Stopwatch.GetElapsedTime(waiting);
            ToolCallTracing.Elapsed(span, ToolCallTracing.Tags.ApprovalWait, waited);
            meters?.ApprovalDecided(waited, verdict.Approved);
            lease?.Resume();
            if (!verdict.Approved)
            {
                await FinishAsync(span, record with { Error = verdict.Message }, CancellationToken.None);
                return new ToolCallOutcome<TResult>(default, Refusal.Policy, verdict.Message);
            }

            // The approval is of the call; the caller is asked about again after the wait (a key revoked, an agent
            // disabled, a user revoked meanwhile): the call is then not forwarded, whatever the approver decided.
            if (standing?.RefusalFor(agent, call.Credential) is { } noLonger)
            {
                await FinishAsync(span, record with { Error = noLonger }, CancellationToken.None);
                return new ToolCallOutcome<TResult>(default, Refusal.Policy, noLonger);
            }
        }

        // Prefixed with this instance's id: see GatewayInstance (a restarting instance leaves live instances' calls alone).
        var callId = CallIds.New(time.GetUtcNow());
        record = record with { CallId = instance is null ? callId : $"{instance.Id}-{callId}" };
        return await ForwardAsync(record, entry, null, forwarder, guard, serverGuard, scan, ticks, span, cancellationToken);
    }

    /// <summary>Writes the call's completion entry, and tags its span from the same record.</summary>
    private ValueTask FinishAsync(Activity? span, AuditRecord record, CancellationToken cancellationToken)
    {
        // An error may be an upstream's text, as long as it liked: the entry (and the span) keep a bounded part of it.
        if (record.Error is { Length: > AuditText.MaxError } error)
        {
            record = record with { Error = AuditText.Cut(error) };
        }

        ToolCallTracing.Finish(span, record);
        return audit.WriteAsync(record, cancellationToken);
    }

    /// <summary>A rule's secrets mode replaces the server's for this call's result.</summary>
    private static void UseSecrets(in PolicyDecision decision, ResultScan scan)
    {
        if (decision.Secrets is { } mode)
        {
            scan.UseSecrets(mode, decision.SecretsRule!);
        }
    }

    /// <summary>
    /// Commits the round's "started" entry, forwards, guards the result and records the completion. Write-before-forward:
    /// the upstream sees the call only after its audit entry is committed (group commit, so concurrent calls share one
    /// fsync). If it cannot be committed, the call is not forwarded: fail closed.
    /// </summary>
    private async ValueTask<ToolCallOutcome<TResult>> ForwardAsync<TTool, TResult>(
        AuditRecord record,
        CatalogEntry<TTool> entry,
        CallContinuation? continuing,
        IToolCallForwarder<TTool, TResult> forwarder,
        CallGuard<TResult>? guard,
        ServerResultGuard? serverGuard,
        ResultScan scan,
        long ticks,
        Activity? span,
        CancellationToken cancellationToken)
    {
        try
        {
            var committing = Stopwatch.GetTimestamp();
            await audit.CommitAsync(record with { Kind = AuditKinds.ToolCallStarted, Outcome = AuditOutcomes.Started }, CancellationToken.None);
            ToolCallTracing.Committed(span, committing);
        }
        catch (AuditUnavailableException ex)
        {
            // Nothing more can be audited; the span still says why the call went no further.
            ToolCallTracing.Finish(span, record with { Outcome = AuditOutcomes.Error, Error = ex.Message });
            return new ToolCallOutcome<TResult>(default, Refusal.AuditUnavailable, ex.Message);
        }

        try
        {
            // The call's span is current while the port sends, so the request to the upstream (the MCP client's span)
            // is its child and carries the trace on (the SDK's _meta.traceparent, and the traceparent header over HTTP).
            // Inline rather than a helper method: one async state machine less per call.
            TResult result;
            var sent = Stopwatch.GetTimestamp();
            try
            {
                result = await forwarder.ForwardAsync(entry, cancellationToken);
            }
            finally
            {
                scan.SentCredential = forwarder.SentCredential;
                ToolCallTracing.Elapsed(span, ToolCallTracing.Tags.UpstreamTime, Stopwatch.GetElapsedTime(sent));
                meters?.UpstreamAnswered(entry.Server, sent);
            }

            // Guard the result before the agent (and the result hash) sees it: secrets redacted or the result
            // withheld, hidden characters stripped, findings recorded here and in the session's facts.
            if (guard is not null)
            {
                guard.Inspector.Inspect(result, serverGuard!, scan);
                await guard.Session.RecordResultAsync(scan, serverGuard!.Settings.Labels, CancellationToken.None);
                if (scan.BlockedBy is not null)
                {
                    var withheld = scan.BlockMessage(entry.Server);
                    record = record with { Outcome = AuditOutcomes.Withheld, Findings = scan.ToAuditJson(), Error = withheld };
                    return new ToolCallOutcome<TResult>(default, Refusal.ResultWithheld, withheld);
                }
            }

            record = record with { Outcome = forwarder.IsToolError(result) ? AuditOutcomes.ToolError : AuditOutcomes.Ok, ResultSha256 = forwarder.ResultSha256(result), Findings = scan.ToAuditJson() };
            return new ToolCallOutcome<TResult>(result, Refusal.None, null);
        }
        catch (UpstreamInputRequiredException ex)
        {
            // Not an answer yet: the agent is asked for input, and its retry is the next round of this same call.
            // The questions are the upstream's text: guarded like a result, before the agent sees them.
            if (guard is not null)
            {
                guard.Inspector.InspectQuestions(ex.Payload, serverGuard!, scan);
                await guard.Session.RecordResultAsync(scan, serverGuard!.Settings.Labels, CancellationToken.None);
                if (scan.BlockedBy is not null)
                {
                    var withheld = scan.BlockMessage(entry.Server);
                    record = record with { Outcome = AuditOutcomes.Withheld, Findings = scan.ToAuditJson(), Error = withheld };
                    return new ToolCallOutcome<TResult>(default, Refusal.ResultWithheld, withheld);
                }
            }

            record = record with { Outcome = AuditOutcomes.InputRequired, Findings = scan.ToAuditJson() };
            var root = continuing?.CallId ?? record.CallId!;
            return new ToolCallOutcome<TResult>(default, Refusal.None, null)
            {
                InputRequired = ex.Payload,
                Continuation = new CallContinuation(root, (continuing?.Round ?? 1) + 1, record.Decision!, record.Rule),
            };
        }
        catch (UpstreamTaskCreatedException ex)
        {
            // Answered with a task handle: the call goes on upstream, and its end is audited when the agent sees it.
            record = record with { Outcome = AuditOutcomes.Task };
            return new ToolCallOutcome<TResult>(default, Refusal.None, null)
            {
                Task = new CreatedTask(ex.Payload, new TaskedCall(record.CallId!, record.Actor, entry.Server, record.Tool!, record.Decision, record.Rule, record.Timestamp, scan.Secrets, scan.SecretsRule)),
            };
        }
        catch (Exception ex)
        {
            record = record with
            {
                Outcome = ex switch
                {
                    UpstreamTimeoutException => AuditOutcomes.Timeout,
                    OperationCanceledException when cancellationToken.IsCancellationRequested => AuditOutcomes.Cancelled,
                    _ => AuditOutcomes.Error,
                },
                Error = ex.Message,
            };
            throw;
        }
        finally
        {
            // Written even when the agent went away: CancellationToken.None, so the record is never dropped.
            await FinishAsync(span, record with { DurationMs = Stopwatch.GetElapsedTime(ticks).TotalMilliseconds }, CancellationToken.None);
        }
    }
}
