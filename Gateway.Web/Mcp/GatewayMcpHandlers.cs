using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Core.Agents;
using Gateway.Core.Audit;
using Gateway.Core.Catalog;
using Gateway.Core.Pipeline;
using Gateway.Web.Authentication;
using Gateway.Web.Guardrails;
using Gateway.Web.Hosting;
using Gateway.Web.Protocol;
using Microsoft.Extensions.Options;
using Gateway.Web.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp;

/// <summary>
/// The one place where MCP meets the domain: each handler reads the agent from the request, asks the current catalog
/// and the Core pipeline, and forwards to the owning upstream under the original name.
/// </summary>
internal sealed partial class GatewayMcpHandlers(
    UpstreamManager upstreams,
    ToolCallPipeline pipeline,
    SessionBridges bridges,
    ProgressRouter progress,
    InFlightCalls inFlight,
    ResultGuardStep guard,
    Guardrails.QuestionGuard questionGuard,
    RoundTrips.RequestStateSeal seal,
    RoundTrips.ParkedCalls parked,
    RoundTrips.ParkedCallRelay parkedRelay,
    UpstreamClientFactory clients,
    VirtualServers.VirtualServerDirectory virtualServers,
    Gateway.Web.Credentials.Users.UserCredentials users,
    IHttpContextAccessor http,
    TimeProvider time,
    IOptionsMonitor<GatewayOptions> options,
    ILogger<GatewayMcpHandlers> logger)
{
    private int PageSize => options.CurrentValue.Mcp.PageSize;

    /// <summary>
    /// Every list is filtered by the agent's grants, so no cache may share it between agents (2026-07-28 <c>cacheScope</c>);
    /// and it changes with the grants, which a 2026-07-28 agent learns of only by asking again: fresh each time (<c>ttlMs</c> 0).
    /// </summary>
    private const CacheScope PerAgent = CacheScope.Private;

    public ValueTask<ListToolsResult> ListToolsAsync(RequestContext<ListToolsRequestParams> request, CancellationToken cancellationToken)
    {
        var agent = AgentOf(request);
        var view = VirtualServerOf();
        if (Searching(agent, view))
        {
            return ValueTask.FromResult(new ListToolsResult { Tools = [.. ToolSearch.Tools], CacheScope = PerAgent, TimeToLive = TimeSpan.Zero });
        }

        var (page, next) = ListPage.Slice((view?.Tools ?? upstreams.Catalog.Tools).VisibleTo(agent.Grants, time.GetUtcNow()).Select(e => e.Item.Exposed), request.Params?.Cursor, PageSize);
        return ValueTask.FromResult(new ListToolsResult { Tools = page, NextCursor = next, CacheScope = PerAgent, TimeToLive = TimeSpan.Zero });
    }

    public async ValueTask<CallToolResult> CallToolAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken)
    {
        var agent = AgentOf(request);

        // The key hash, or the OAuth caller's credential, the call was made with: whether it may still act is asked of it.
        var credential = request.User.GetAgentIdentity()?.KeyHash ?? string.Empty;
        var call = request.Params ?? throw new McpProtocolException("Missing params.", McpErrorCode.InvalidParams);
        if (string.IsNullOrEmpty(call.Name))
        {
            throw new McpProtocolException("Missing tool name.", McpErrorCode.InvalidParams);
        }

        // A virtual server's tools are its picks under its names; the checks below are the real tool's all the same.
        var view = VirtualServerOf();
        var searching = Searching(agent, view);
        if (searching)
        {
            if (call.Name == ToolSearch.SearchName)
            {
                return ToolSearch.Search(view?.Tools ?? upstreams.Catalog.Tools, agent.Grants, time.GetUtcNow(), call.Arguments);
            }

            // call_tool goes on as a call of the tool it names (its retries too), through the same spine: grant, policy,
            // approval, and the audit names that tool.
            ToolSearch.Unwrap(call);
        }

        // A retry of a multi round-trip call: it goes on as the round the sealed state names, or not at all.
        RoundTrips.SealedRound? resumed = null;
        if (call.RequestState is { } state)
        {
            resumed = await seal.OpenAsync(state, agent, RequestMethods.ToolsCall, SealedName(call.Name), call.Arguments, cancellationToken)
                ?? throw new McpProtocolException(RoundTrips.RequestStateSeal.Invalid, McpErrorCode.InvalidParams);
        }

        // The agent's answers to a parked call (a 2025-11-25 upstream asked mid-call), on whichever instance it waits.
        if (resumed?.Parked is not null)
        {
            return await parkedRelay.ResumeAsync(resumed, call.InputResponses, cancellationToken);
        }

        var catalog = upstreams.Catalog;
        var (tools, offline) = view is null ? (catalog.Tools, catalog.OfflineTools) : (view.Tools, view.OfflineTools);

        // SEP-2243 headers agree with the arguments they mirror (checked only for a tool the agent may call, so a
        // header error never tells it about a tool it may not see).
        AgentHeaders.Taken? agentHeaders = null;
        // The tool exposed under the name, else the one granted tool whose upstream name it is (an MCP App's call), as the pipeline resolves it.
        var now = time.GetUtcNow();
        var named = tools.TryResolve(call.Name, out var exact) ? exact : tools.ResolveUpstreamName(call.Name, agent.Grants, now, out _);
        if (named is not null && agent.Grants.Allows(named.Server, named.OriginalName, named.Class, now))
        {
            // Through call_tool the agent saw call_tool's schema, which mirrors nothing in headers.
            if (!searching)
            {
                ParamHeaderValidation.Check(http.HttpContext, named.Item.Exposed, call.Arguments);
            }

            // The agent headers its server forwards, taken now: a parked call is forwarded after this request ends.
            upstreams.TryGet(named.Server, out var connection);
            agentHeaders = connection is null ? null : AgentHeaders.Capture(http.HttpContext, connection.Definition);

            // A 2026-07-28 agent that can answer questions, calling a 2025-11-25 upstream that asks them as requests on its
            // session: the call gets its own upstream session and waits here between the agent's rounds.
            if (resumed is null && request.Server.SessionId is null
                && connection is { SupportsSessionBridges: true }
                && !ProtocolRevisions.IsPerRequest(connection.ProtocolVersion) && CanAnswer(DeclaredCapabilities.Of(request))
                && parked.TryPark() is { } waiting)
            {
                waiting.Server = named.Server;
                var forwarder = new ToolCallForwarder(this, request, tools, offline, guard.ForSession(request.Server.SessionId), null, agentHeaders, (waiting, connection));
                // Tracked for as long as it runs, beyond this request: a revoked key or user, or a disabled agent, ends it.
                var detached = inFlight.TrackDetached(new Caller(agent.Id, credential, agent.User), waiting.Lifetime);
                parked.Start(waiting, async ct =>
                {
                    using (detached)
                    {
                        return await CallAsync(request, agent, credential, call, null, forwarder, ct);
                    }
                });
                return await parkedRelay.NextRoundAsync(waiting, agent.Id, agent.User, SealedName(call.Name), Hash(call.Arguments), cancellationToken);
            }
        }

        // Each POST is its own HTTP request, so the accessor holds this call's: its abort cancels the call too.
        using var tracked = inFlight.Track(request.JsonRpcRequest, new Caller(agent.Id, credential, agent.User), cancellationToken, http.HttpContext?.RequestAborted ?? default);
        try
        {
            return await CallAsync(request, agent, credential, call, resumed, new ToolCallForwarder(this, request, tools, offline, guard.ForSession(request.Server.SessionId), resumed, agentHeaders), tracked.Token);
        }
        catch (OperationCanceledException) when (tracked.EndedForCaller && !cancellationToken.IsCancellationRequested)
        {
            // Ended by the gateway, not by the agent: it gets an answer saying why (a request it cancelled gets none).
            return new CallToolResult { IsError = true, Content = [new TextContentBlock { Text = CallerEnded }] };
        }
    }

    /// <summary>Runs the call through the pipeline and maps its outcome to what the agent gets.</summary>
    private async Task<CallToolResult> CallAsync(
        RequestContext<CallToolRequestParams> request,
        AgentIdentity agent,
        string credential,
        CallToolRequestParams call,
        RoundTrips.SealedRound? resumed,
        ToolCallForwarder forwarder,
        CancellationToken cancellationToken)
    {
        ToolCallOutcome<CallToolResult> outcome;
        try
        {
            outcome = await pipeline.RunAsync(
                new ToolCall(agent, call.Name, call.Arguments) { Continuing = resumed?.Continuation, Heartbeat = Heartbeat(request), VirtualServer = VirtualServerPath(), Credential = credential },
                forwarder,
                cancellationToken);
        }
        catch (Exception ex) when (UpstreamFailure.IsCallFailure(ex))
        {
            // An execution failure, reported as a tool error the model can read (the SDK would mask a thrown
            // internal error behind a generic message).
            return new CallToolResult { IsError = true, Content = [new TextContentBlock { Text = ex.Message }] };
        }

        if (outcome.InputRequired is InputRequiredResult inputRequired)
        {
            // The upstream asks the agent for input: relay it with the state sealed to this agent and call. A 2026-07-28
            // agent gets it as is; for a 2025-11-25 session the SDK asks the agent with ordinary requests and calls this
            // handler again with the answers (era translation), which continues the call as its next round.
            var next = outcome.Continuation!;
            throw new InputRequiredException(Relay(inputRequired, new RoundTrips.SealedRound(
                agent.Id, RequestMethods.ToolsCall, SealedName(call.Name), Hash(call.Arguments), forwarder.ForwardedTo ?? string.Empty, inputRequired.RequestState,
                next.CallId, next.Round, next.Decision, next.Rule) { User = agent.User }));
        }

        if (outcome.Task is { } task)
        {
            // The upstream runs the call as a task: its handle reaches the agent with the id sealed to it (Tasks/TaskRelay).
            return Tasks.TaskRelay.Defer(request, task, agent);
        }

        if (outcome.Refusal != Refusal.None)
        {
            // A refusal is the gateway working as configured: one line, and the audit has the rest.
            LogRefused(agent.Name, call.Name, outcome.Refusal, outcome.Message);
        }

        return outcome.Refusal switch
        {
            Refusal.None => outcome.Result!,

            // Policy refusals and a down upstream are tool errors the model can read; unknown tools and unreadable arguments are protocol errors.
            Refusal.Policy or Refusal.AuditUnavailable or Refusal.ResultWithheld or Refusal.Unavailable => new CallToolResult { IsError = true, Content = [new TextContentBlock { Text = outcome.Message! }] },
            Refusal.Limited => throw Limits.LimitRefusal.Exception(outcome.Message!, outcome.RetryAfter, outcome.Limit),
            _ => throw new McpProtocolException(outcome.Message!, McpErrorCode.InvalidParams),
        };
    }

    /// <summary>Forwards a parked call over an upstream session of its own, whose questions go to the agent through <paramref name="waiting"/>.</summary>
    private async ValueTask<CallToolResult> ForwardParkedAsync(RequestContext<CallToolRequestParams> request, RoundTrips.ParkedCall waiting, UpstreamConnection connection, string originalName, CancellationToken cancellationToken)
    {
        var caps = DeclaredCapabilities.Of(request);
        var agent = AgentOf(request).Name;
        var handlers = new McpClientHandlers();

        // The questions' text comes from the upstream like a result does: guarded before the agent sees it.
        if (caps?.Elicitation is not null)
        {
            handlers.ElicitationHandler = async (p, ct) => (await waiting.AskAsync(InputRequest.ForElicitation(await questionGuard.InspectAsync(null, connection.Name, agent, RequestMethods.ElicitationCreate, p!)), ct)).Deserialize(InputResponse.ElicitResultJsonTypeInfo)
                ?? throw new McpProtocolException("The agent's elicitation answer is empty.", McpErrorCode.InvalidParams);
        }

        if (caps?.Sampling is not null)
        {
            handlers.SamplingHandler = async (p, _, ct) => (await waiting.AskAsync(InputRequest.ForSampling(await questionGuard.InspectAsync(null, connection.Name, agent, RequestMethods.SamplingCreateMessage, p!)), ct)).Deserialize(InputResponse.CreateMessageResultJsonTypeInfo)
                ?? throw new McpProtocolException("The agent's sampling answer is empty.", McpErrorCode.InvalidParams);
        }

        if (caps?.Roots is not null)
        {
            handlers.RootsHandler = async (p, ct) => (await waiting.AskAsync(InputRequest.ForRootsList(p ?? new ListRootsRequestParams()), ct)).Deserialize(InputResponse.ListRootsResultJsonTypeInfo)
                ?? throw new McpProtocolException("The agent's roots answer is empty.", McpErrorCode.InvalidParams);
        }

        var client = await clients.ConnectAsync(connection.Definition, handlers, _ => { }, new ClientCapabilities { Elicitation = caps?.Elicitation, Sampling = caps?.Sampling, Roots = caps?.Roots, Extensions = RelayedExtensions.Of(caps) }, cancellationToken, sessionRevision: true);
        try
        {
            client.AddKnownTools(connection.Tools);
            return await connection.InvokeAsync(client, (c, ct) => UpstreamToolCall.CallAsync(c, null, originalName, request.Params!.Arguments, ForwardableMeta(request.Params.Meta), null, null, ct), cancellationToken);
        }
        finally
        {
            await client.DisposeAsync();
        }
    }

    private static bool CanAnswer(ClientCapabilities? caps) => caps?.Elicitation is not null || caps?.Sampling is not null || caps?.Roots is not null;

    public ValueTask<ListPromptsResult> ListPromptsAsync(RequestContext<ListPromptsRequestParams> request, CancellationToken cancellationToken)
    {
        var agent = AgentOf(request);
        var prompts = PromptsOf(VirtualServerOf()).OfServersVisibleTo(agent.Grants, time.GetUtcNow());
        var (page, next) = ListPage.Slice(prompts.Select(e => e.Item.Exposed), request.Params?.Cursor, PageSize);
        return ValueTask.FromResult(new ListPromptsResult { Prompts = page, NextCursor = next, CacheScope = PerAgent, TimeToLive = TimeSpan.Zero });
    }

    public async ValueTask<GetPromptResult> GetPromptAsync(RequestContext<GetPromptRequestParams> request, CancellationToken cancellationToken)
    {
        var agent = AgentOf(request);
        var p = request.Params ?? throw new McpProtocolException("Missing params.", McpErrorCode.InvalidParams);
        if (!PromptsOf(VirtualServerOf()).TryResolve(p.Name, out var entry) || !agent.Grants.AllowsAnyOf(entry.Server, time.GetUtcNow()))
        {
            throw new McpProtocolException($"Unknown prompt: '{p.Name}'.", McpErrorCode.InvalidParams);
        }

        // Prompts may ask for input too (multi round-trip requests), with the state sealed as for tool calls.
        RoundTrips.SealedRound? resumed = null;
        if (p.RequestState is { } state)
        {
            resumed = await seal.OpenAsync(state, agent, RequestMethods.PromptsGet, SealedName(p.Name), p.Arguments, cancellationToken);
            if (resumed is null || resumed.Server != entry.Server)
            {
                throw new McpProtocolException(RoundTrips.RequestStateSeal.Invalid, McpErrorCode.InvalidParams);
            }
        }

        var parameters = new JsonObject { ["name"] = entry.OriginalName };
        if (p.Arguments is not null)
        {
            parameters["arguments"] = JsonSerializer.SerializeToNode(p.Arguments, McpJsonUtilities.DefaultOptions);
        }

        if (ForwardableMeta(p.Meta) is { } meta)
        {
            parameters["_meta"] = meta;
        }

        var roundTrip = RoundTripOf(request, entry.Server, p, resumed);
        string? sent = null;
        try
        {
            var result = await AsCallerAsync(request, entry.Server, ct => InvokeAsync(entry.Server, (client, c) => roundTrip.SendAsync(client, RequestMethods.PromptsGet, parameters, c), ct), cancellationToken, token => sent = token);
            var prompt = result.Deserialize<GetPromptResult>(McpJsonUtilities.DefaultOptions)
                ?? throw new McpProtocolException("The upstream returned an empty prompts/get result.", McpErrorCode.InternalError);
            await GuardExchangeAsync(request, agent, RequestMethods.PromptsGet, p.Name, entry.Server, (g, scan) => Guardrails.ExchangeInspector.Inspect(prompt, g, scan), sent);
            return prompt;
        }
        catch (UpstreamInputRequiredException ex) when (ex.Payload is InputRequiredResult inputRequired)
        {
            await GuardExchangeAsync(request, agent, RequestMethods.PromptsGet, p.Name, entry.Server, (g, scan) => Guardrails.ExchangeInspector.Inspect(inputRequired, g, scan), sent);
            throw new InputRequiredException(Relay(inputRequired, new RoundTrips.SealedRound(
                agent.Id, RequestMethods.PromptsGet, SealedName(p.Name), Hash(p.Arguments), entry.Server, inputRequired.RequestState, null, 0, null, null) { User = agent.User }));
        }
    }

    public ValueTask<ListResourcesResult> ListResourcesAsync(RequestContext<ListResourcesRequestParams> request, CancellationToken cancellationToken)
    {
        var agent = AgentOf(request);
        var now = time.GetUtcNow();
        var resources = VirtualServerOf() is { } view
            ? view.Resources.Resources.OfServersVisibleTo(agent.Grants, now).Select(e => e.Item)
            : upstreams.Catalog.ExposedResources.Where(r => agent.Grants.AllowsAnyOf(r.Server, now)).Select(r => r.Exposed);
        var (page, next) = ListPage.Slice(resources, request.Params?.Cursor, PageSize);
        return ValueTask.FromResult(new ListResourcesResult { Resources = page, NextCursor = next, CacheScope = PerAgent, TimeToLive = TimeSpan.Zero });
    }

    public ValueTask<ListResourceTemplatesResult> ListResourceTemplatesAsync(RequestContext<ListResourceTemplatesRequestParams> request, CancellationToken cancellationToken)
    {
        var agent = AgentOf(request);
        var now = time.GetUtcNow();
        var templates = VirtualServerOf() is { } view
            ? view.Resources.Templates.OfServersVisibleTo(agent.Grants, now).Select(e => e.Item)
            : upstreams.Catalog.ExposedTemplates.Where(t => agent.Grants.AllowsAnyOf(t.Server, now)).Select(t => t.Exposed);
        var (page, next) = ListPage.Slice(templates, request.Params?.Cursor, PageSize);
        return ValueTask.FromResult(new ListResourceTemplatesResult { ResourceTemplates = page, NextCursor = next, CacheScope = PerAgent, TimeToLive = TimeSpan.Zero });
    }

    public async ValueTask<ReadResourceResult> ReadResourceAsync(RequestContext<ReadResourceRequestParams> request, CancellationToken cancellationToken)
    {
        var agent = AgentOf(request);
        var p = request.Params ?? throw new McpProtocolException("Missing params.", McpErrorCode.InvalidParams);
        var (server, original) = RouteResource(request, agent, p.Uri);
        var meta = ForwardableMeta(p.Meta);
        string? sent = null;
        var result = await AsCallerAsync(request, server, ct => InvokeAsync(server, (client, c) => client.ReadResourceAsync(
            new ReadResourceRequestParams { Uri = original, Meta = meta }, c), ct), cancellationToken, token => sent = token);

        await GuardExchangeAsync(request, agent, RequestMethods.ResourcesRead, p.Uri, server, (g, scan) => Guardrails.ExchangeInspector.Inspect(result, g, scan), sent);

        // Readable only under the agent's grants: never for a shared cache, whatever the upstream said (its TTL stands).
        result.CacheScope = PerAgent;
        if (original != p.Uri)
        {
            // The agent asked for the rewritten URI: answer in the same terms.
            foreach (var content in result.Contents)
            {
                if (content.Uri == original)
                {
                    content.Uri = p.Uri;
                }
            }
        }

        return result;
    }

    public async ValueTask<CompleteResult> CompleteAsync(RequestContext<CompleteRequestParams> request, CancellationToken cancellationToken)
    {
        var agent = AgentOf(request);
        var p = request.Params ?? throw new McpProtocolException("Missing params.", McpErrorCode.InvalidParams);
        string server;
        Reference reference;
        switch (p.Ref)
        {
            case PromptReference prompt:
                if (!PromptsOf(VirtualServerOf()).TryResolve(prompt.Name, out var entry) || !agent.Grants.AllowsAnyOf(entry.Server, time.GetUtcNow()))
                {
                    throw new McpProtocolException($"Unknown prompt: '{prompt.Name}'.", McpErrorCode.InvalidParams);
                }

                server = entry.Server;
                reference = new PromptReference { Name = entry.OriginalName, Title = prompt.Title };
                break;
            case ResourceTemplateReference resource:
                var routed = RouteResource(request, agent, resource.Uri ?? string.Empty);
                server = routed.Server;
                reference = new ResourceTemplateReference { Uri = routed.OriginalUri };
                break;
            default:
                throw new McpProtocolException("Unsupported completion reference.", McpErrorCode.InvalidParams);
        }

        var forwarded = new CompleteRequestParams { Ref = reference, Argument = p.Argument, Context = p.Context, Meta = ForwardableMeta(p.Meta) };
        return await AsCallerAsync(request, server, ct => InvokeAsync(server, (client, c) => client.CompleteAsync(forwarded, c), ct), cancellationToken);
    }

    public async ValueTask<EmptyResult> SubscribeAsync(RequestContext<SubscribeRequestParams> request, CancellationToken cancellationToken)
    {
        var agent = AgentOf(request);
        var p = request.Params ?? throw new McpProtocolException("Missing params.", McpErrorCode.InvalidParams);
        var (server, original) = RouteResource(request, agent, p.Uri);
        // Remembered (from before the upstream is asked, so that concurrent subscribes cannot pass the cap together) so
        // that a bridge opened again (the upstream restarted) subscribes again.
        var sessionId = request.Server.SessionId;
        var added = false;
        if (sessionId is not null && !bridges.Subscriptions.TryReserve(sessionId, server, original, out added))
        {
            throw new McpProtocolException($"A session holds at most {SessionSubscriptions.MaxPerSession} resource subscriptions.", McpErrorCode.InvalidParams);
        }

        try
        {
            await AsCallerAsync(request, server, ct => InvokeSessionAsync(request, server, async (client, c) =>
            {
                await client.SubscribeToResourceAsync(new SubscribeRequestParams { Uri = original }, c);
                return true;
            }, ct), cancellationToken);
        }
        catch when (added)
        {
            bridges.Subscriptions.Remove(sessionId!, server, original);
            throw;
        }

        if (sessionId is not null)
        {
            bridges.Subscriptions.Confirm(sessionId, server, original);
        }

        return new EmptyResult();
    }

    public async ValueTask<EmptyResult> UnsubscribeAsync(RequestContext<UnsubscribeRequestParams> request, CancellationToken cancellationToken)
    {
        var agent = AgentOf(request);
        var p = request.Params ?? throw new McpProtocolException("Missing params.", McpErrorCode.InvalidParams);
        var (server, original) = RouteResource(request, agent, p.Uri);
        await AsCallerAsync(request, server, ct => InvokeSessionAsync(request, server, async (client, c) =>
        {
            await client.UnsubscribeFromResourceAsync(new UnsubscribeRequestParams { Uri = original }, c);
            return true;
        }, ct), cancellationToken);
        if (request.Server.SessionId is { } sessionId)
        {
            bridges.Subscriptions.Remove(sessionId, server, original);
        }

        return new EmptyResult();
    }

    public async ValueTask<EmptyResult> SetLoggingLevelAsync(RequestContext<SetLevelRequestParams> request, CancellationToken cancellationToken)
    {
        AgentOf(request);
        if (request.Server.SessionId is { } sessionId && request.Params is { } p)
        {
            // Applies to the upstream sessions of this agent session, now and when they open.
            await bridges.SetLevelAsync(sessionId, p.Level, cancellationToken);
        }

        return new EmptyResult();
    }

    private async ValueTask<CallToolResult> ForwardAsync(RequestContext<CallToolRequestParams> request, string server, Tool tool, RoundTrips.SealedRound? resumed, CancellationToken cancellationToken)
    {
        var call = request.Params!;
        if (resumed is not null && resumed.Server != server)
        {
            // The name now resolves to another server than the one that asked: its answers are not for this one.
            throw new McpProtocolException(RoundTrips.RequestStateSeal.Invalid, McpErrorCode.InvalidParams);
        }

        var roundTrip = RoundTripOf(request, server, call, resumed);

        // The upstream reports progress on a token of the gateway's; the router maps it back to the agent's token.
        var relay = call.ProgressToken is { } token ? new ProgressRelay(request.Server, token) : null;
        ProgressToken? upstreamToken = relay is not null ? progress.Register(relay) : null;
        try
        {
            var result = await InvokeSessionRawAsync(
                request,
                server,
                (client, ct) => UpstreamToolCall.CallAsync(client, DirectFor(server, client, tool), tool.Name, call.Arguments, ForwardableMeta(call.Meta), upstreamToken, roundTrip, ct),
                cancellationToken);

            // Resources the result refers to (an MCP Apps interface, links, embedded ones) as they reach this server's.
            return AppsProtocol.ExposeResult(result, server, upstreams.Catalog.Resources);
        }
        finally
        {
            if (upstreamToken is { } registered)
            {
                progress.Unregister(registered);

                // The answer goes after the progress read before it (the relay sends without holding the upstream's reader).
                await relay!.DrainAsync(cancellationToken);
            }
        }
    }

    /// <summary>
    /// The direct way for a call over the shared client of an HTTP upstream (<see cref="DirectToolCalls"/>); null for a
    /// session's own client, and for a tool whose arguments travel in headers too (SEP-2243), which the SDK client adds.
    /// </summary>
    private DirectToolCalls? DirectFor(string server, McpClient client, Tool tool) =>
        upstreams.TryGet(server, out var connection) && !ParamHeaderValidation.Declares(tool) && DirectToolCalls.CanCarry(tool.Name)
            ? connection.DirectFor(client)
            : null;

    /// <summary>What a request carries upstream for multi round-trip requests (see <see cref="UpstreamRoundTrip"/>).</summary>
    private UpstreamRoundTrip RoundTripOf(MessageContext request, string server, RequestParams parameters, RoundTrips.SealedRound? resumed) =>
        new(server, resumed is null ? null : parameters.InputResponses, resumed?.Upstream, DeclaredCapabilities.Of(request), seal.MaxUpstreamStateBytes);

    /// <summary>The upstream's input-required result as the agent gets it: its requests as they are, its state sealed.</summary>
    private InputRequiredResult Relay(InputRequiredResult upstream, RoundTrips.SealedRound round) =>
        new() { InputRequests = upstream.InputRequests, RequestState = seal.Seal(round) };

    private static string? Hash(IDictionary<string, JsonElement>? arguments) =>
        CanonicalJson.TrySha256(arguments, out var hash) ? hash : null;

    /// <summary>
    /// While a call waits for approval, tell the agent (when it gave a progress token), so clients that reset their
    /// timeout on progress keep waiting. Without one, a 2025-11-25 session's call is pinged on its own stream instead:
    /// a held call's stream is otherwise silent for as long as the approver takes, and a reverse proxy cuts a response
    /// silent past its read timeout (nginx's 60 s by default), which ends the call. 2026-07-28 has no server-to-client
    /// request to send, so such a call keeps today's silence.
    /// </summary>
    private static Func<string, ValueTask>? Heartbeat(RequestContext<CallToolRequestParams> request)
    {
        if (request.Params?.ProgressToken is not { } token)
        {
            return request.Server.SessionId is null ? null : _ => Ping(request.Server);
        }

        var beats = 0;
        return async message =>
        {
            try
            {
                await request.Server.NotifyProgressAsync(token, new ProgressNotificationValue { Progress = ++beats, Message = message });
            }
            catch (Exception)
            {
                // The agent went away; the approval stays pending for its retry.
            }
        };
    }

    /// <summary>How long a held call's ping waits for the agent's answer: the bytes on the stream are what keep it open.</summary>
    internal static readonly TimeSpan HeldCallPingWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Pings the agent on the held call's stream without waiting: the approval's wait goes on at once (a decision is
    /// released within milliseconds), and through a balancer the answer may reach another instance, never this one.
    /// One ping per heartbeat interval (<c>Gateway:Approvals:HeartbeatInterval</c>, 100 ms at the least), each given up
    /// after <see cref="HeldCallPingWait"/>: at most 50 are out for one held call.
    /// </summary>
    private static ValueTask Ping(McpServer server)
    {
        _ = Task.Run(async () =>
        {
            using var wait = new CancellationTokenSource(HeldCallPingWait);
            try
            {
                await server.SendRequestAsync(new JsonRpcRequest { Method = RequestMethods.Ping }, wait.Token);
            }
            catch (Exception)
            {
                // Unanswered here, or the agent went away: the approval stays pending for its retry either way.
            }
        });
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Forwards over the agent session's own upstream session when it needs one (a 2025-11-25 session that can answer
    /// server-to-client requests, subscribed or asked for log messages, to an HTTP or SSE upstream), so whatever the
    /// upstream sends during the call reaches this agent; else over the shared client, which costs no extra upstream
    /// session (progress still reaches the agent through the progress router).
    /// </summary>
    private async Task<T> InvokeSessionRawAsync<T>(MessageContext request, string server, Func<McpClient, CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken, bool subscribing = false)
    {
        if (request.Server.SessionId is not { } sessionId || !upstreams.TryGet(server, out var connection) || !connection.SupportsSessionBridges
            || !(subscribing || bridges.Needed(sessionId, server, request.Server.ClientCapabilities)))
        {
            return await InvokeRawAsync(server, call, cancellationToken);
        }

        SessionBridge bridge;
        try
        {
            bridge = await bridges.GetAsync(sessionId, AgentOf(request), request.Server, connection, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The call itself can still go through the shared connection; only unsolicited messages lose their way.
            LogBridgeFailed(server, Gateway.Core.Audit.AuditText.Cut(ex.Message)!);
            return await InvokeRawAsync(server, call, cancellationToken);
        }

        using (bridge.Enter(request.Server))
        {
            try
            {
                return await connection.InvokeAsync(bridge.Client, call, cancellationToken);
            }
            finally
            {
                // The log messages read before the answer go on this call's stream ahead of it.
                await bridge.DrainNotificationsAsync(cancellationToken);
            }
        }
    }

    private async Task<T> InvokeSessionAsync<T>(MessageContext request, string server, Func<McpClient, CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await InvokeSessionRawAsync(request, server, call, cancellationToken, subscribing: true);
        }
        catch (Exception ex) when (UpstreamFailure.IsCallFailure(ex))
        {
            throw new McpProtocolException(ex.Message, McpErrorCode.InternalError);
        }
    }

    /// <summary>Forwards to an upstream; failures of the upstream itself surface as <see cref="UpstreamUnavailableException"/> or <see cref="UpstreamTimeoutException"/>.</summary>
    private Task<T> InvokeRawAsync<T>(string server, Func<McpClient, CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken) =>
        upstreams.TryGet(server, out var connection)
            ? connection.InvokeAsync(call, cancellationToken)
            : throw new UpstreamUnavailableException(server);

    /// <summary>Forwards to an upstream, turning its failures into a JSON-RPC internal error that names the server.</summary>
    private async Task<T> InvokeAsync<T>(string server, Func<McpClient, CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await InvokeRawAsync(server, call, cancellationToken);
        }
        catch (Exception ex) when (UpstreamFailure.IsCallFailure(ex))
        {
            throw new McpProtocolException(ex.Message, McpErrorCode.InternalError);
        }
    }

    private (string Server, string OriginalUri) RouteResource(MessageContext request, AgentIdentity agent, string uri)
    {
        // On a virtual server only its picks route (a URI of /mcp that it does not publish is unknown there).
        var route = VirtualServerOf() is { } view ? view.Resources.Route(uri) : upstreams.Catalog.Resources.Route(uri);
        if (route is { } found && agent.Grants.AllowsAnyOf(found.Server, time.GetUtcNow()))
        {
            return found;
        }

        // 2026-07-28 answers an unknown resource with -32602 (SEP-2164), earlier revisions with -32002; both name the URI.
        var revision2026 = ProtocolRevisions.IsPerRequest(request.Server.NegotiatedProtocolVersion);
        var notFound = new McpProtocolException($"Resource not found: '{uri}'.", revision2026 ? McpErrorCode.InvalidParams : McpErrorCode.ResourceNotFound);
        notFound.Data["uri"] = uri;
        throw notFound;
    }

    /// <summary>
    /// The agent's <c>_meta</c> minus the keys that belong to the agent's own connection: its progress token (the gateway
    /// issues its own upstream) and the protocol keys, which would make the upstream client drop its session (SDK notes, pitfall 2).
    /// </summary>
    internal static JsonObject? ForwardableMeta(JsonObject? meta)
    {
        if (meta is null || meta.Count == 0)
        {
            return null;
        }

        JsonObject? copy = null;
        foreach (var (key, value) in meta)
        {
            if (key == "progressToken" || key.StartsWith("io.modelcontextprotocol/", StringComparison.Ordinal))
            {
                continue;
            }

            copy ??= [];
            copy[key] = value?.DeepClone();
        }

        return copy;
    }

    /// <summary>
    /// Whether the endpoint offers search instead of the full list: a virtual server by its own setting, <c>/mcp</c> by the
    /// agent's (either way the search ranks the tools of that endpoint the agent may call).
    /// </summary>
    private static bool Searching(AgentIdentity agent, VirtualServers.VirtualServerView? view) =>
        (view?.Server.Discovery ?? agent.Discovery) == Gateway.Core.VirtualServers.ToolDiscovery.Search;

    /// <summary>The prompts of the endpoint: a virtual server's picks under its names, or every upstream's on <c>/mcp</c>.</summary>
    private NamespacedCatalog<ExposedPrompt> PromptsOf(VirtualServers.VirtualServerView? view) => view?.Prompts ?? upstreams.Catalog.Prompts;

    /// <summary>The virtual server this request is for (<c>/mcp/{name}</c>), or null for <c>/mcp</c>.</summary>
    private VirtualServers.VirtualServerView? VirtualServerOf() =>
        VirtualServerPath() is { } name
            ? virtualServers.Find(name) ?? throw new McpProtocolException($"No virtual server named '{name}'.", McpErrorCode.InvalidRequest)
            : null;

    /// <summary>
    /// The name a sealed <c>requestState</c> is bound to: the endpoint's too (<c>{virtual server}/{name}</c>; neither part
    /// has a '/'), so a state given on one endpoint does not open on another, like a 2025-11-25 session.
    /// </summary>
    private string SealedName(string name) => VirtualServerPath() is { } virtualServer ? $"{virtualServer}/{name}" : name;

    private string? VirtualServerPath() => VirtualServers.VirtualServerPath.NameOf(http.HttpContext?.Request.Path ?? default);

    /// <summary>What an agent is told of a call ended because its caller may no longer act.</summary>
    internal const string CallerEnded = "The call was ended: the key it was made with was revoked, its agent disabled, or the user it acts for revoked while it ran or waited for approval.";

    private static AgentIdentity AgentOf(MessageContext request) =>
        request.User.GetAgent() ?? throw new McpProtocolException("Not authenticated.", McpErrorCode.InvalidRequest);

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused tools/call of '{Tool}' by agent {Agent} ({Refusal}): {Reason}")]
    private partial void LogRefused(string agent, string tool, Refusal refusal, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Opening a session bridge to {Server} failed ({Reason}); using the shared connection.")]
    private partial void LogBridgeFailed(string server, string reason);
}
