using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream.Conformance;

/// <summary>
/// The io.modelcontextprotocol/tasks extension (SEP-2663), by hand: SDK 2.4.0 has its seams (extension capabilities,
/// custom request handlers with an Mcp-Name routing parameter, alternate tools/call results) but no package for it here.
/// Only a 2026-07-28 request that declares the extension in its <c>_meta</c> client capabilities gets a task; anyone else
/// gets the tool's synchronous answer, or -32021 for a tool that only runs as a task.
/// </summary>
public sealed class TasksExtension
{
    public const string Id = "io.modelcontextprotocol/tasks";

    private static readonly JsonTypeInfo<CreateTaskResult> CreateTaskResultJson = (JsonTypeInfo<CreateTaskResult>)new JsonSerializerOptions
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    }.GetTypeInfo(typeof(CreateTaskResult));

    private readonly ConcurrentDictionary<string, TaskRun> _runs = new(StringComparer.Ordinal);

    public void Configure(McpServerOptions options)
    {
        options.Capabilities ??= new ServerCapabilities();
        options.Capabilities.Extensions ??= new Dictionary<string, object>();
        options.Capabilities.Extensions[Id] = new JsonObject();
        options.RequestHandlers ??= [];
        options.RequestHandlers.Add(new McpServerRequestHandler { Method = "tasks/get", RoutingNameParameter = "taskId", Handler = GetAsync });
        options.RequestHandlers.Add(new McpServerRequestHandler { Method = "tasks/update", RoutingNameParameter = "taskId", Handler = UpdateAsync });
        options.RequestHandlers.Add(new McpServerRequestHandler { Method = "tasks/cancel", RoutingNameParameter = "taskId", Handler = CancelAsync });
        options.Filters.Request.CallToolWithAlternateFilters.Add(CallToolAsync);
        options.Filters.Message.OutgoingFilters.Add(DeclareTaskSupport);
    }

    /// <summary>
    /// Adds <c>execution.taskSupport</c> to the task tools in tools/list (the SDK's Tool type has no such field): how a
    /// client tells a tool that only runs as a task (required) from one that may (optional) before calling it.
    /// </summary>
    private static McpMessageHandler DeclareTaskSupport(McpMessageHandler next) => (context, cancellationToken) =>
    {
        if (context.JsonRpcMessage is JsonRpcResponse { Result: JsonObject { } result } && result["tools"] is JsonArray tools)
        {
            foreach (var tool in tools.OfType<JsonObject>())
            {
                if (TaskTools.Support(tool["name"]?.GetValue<string>()) is { } support)
                {
                    tool["execution"] = new JsonObject { ["taskSupport"] = support.Required ? "required" : "optional" };
                }
            }
        }

        return next(context, cancellationToken);
    };

    /// <summary>tools/call: starts a task for a task tool when the request declared the extension (and brought the
    /// inputs the tool gathers before it goes asynchronous); answers with the CreateTaskResult at once.</summary>
    private async ValueTask<ResultOrAlternate<CallToolResult>> CallToolAsync(
        RequestContext<CallToolRequestParams> request,
        McpRequestHandler<CallToolRequestParams, ResultOrAlternate<CallToolResult>> next,
        CancellationToken cancellationToken)
    {
        if (TaskTools.Support(request.Params?.Name) is not { } support)
        {
            return await next(request, cancellationToken);
        }

        if (!Declared(request.JsonRpcRequest))
        {
            return support.Required ? throw MissingExtension() : await next(request, cancellationToken);
        }

        if (support.InputsBeforeTask.Any(key => request.Params!.InputResponses?.ContainsKey(key) != true))
        {
            return await next(request, cancellationToken);
        }

        foreach (var (id, stale) in _runs)
        {
            if (stale.IsExpired)
            {
                _runs.TryRemove(id, out _);
            }
        }

        var run = new TaskRun();
        _runs[run.Id] = run;

        // The task outlives this request, so it must not resolve services from the request's scope.
        var scope = request.Services?.GetService<IServiceScopeFactory>()?.CreateAsyncScope();
        var detached = new RequestContext<CallToolRequestParams>(request.Server, request.JsonRpcRequest, request.Params!)
        {
            MatchedPrimitive = request.MatchedPrimitive,
            Services = scope?.ServiceProvider ?? request.Services,
            User = request.User,
        };
        _ = Task.Run(async () =>
        {
            try
            {
                await run.RunAsync(async () => (await next(detached, run.Cancellation)).Result
                    ?? throw new McpProtocolException("The tool returned no result.", McpErrorCode.InternalError));
            }
            finally
            {
                if (scope is { } owned)
                {
                    await owned.DisposeAsync();
                }
            }
        }, CancellationToken.None);

        return ResultOrAlternate<CallToolResult>.FromAlternate(run.ToCreateTaskResult(), CreateTaskResultJson);
    }

    /// <summary>
    /// tasks/get: the task's state, also pushed as <c>notifications/tasks/status</c> on the request's stream before the
    /// answer (the extension lets a server push a task's state there, and only there, on HTTP).
    /// </summary>
    private async ValueTask<JsonNode?> GetAsync(RequestContext<JsonNode?> request, CancellationToken cancellationToken)
    {
        var task = Find(request).ToDetailedTask();
        var pushed = (JsonObject)task.DeepClone();
        pushed.Remove("resultType");
        await request.Server.SendNotificationAsync("notifications/tasks/status", pushed, cancellationToken: cancellationToken);
        return task;
    }

    private ValueTask<JsonNode?> UpdateAsync(RequestContext<JsonNode?> request, CancellationToken cancellationToken)
    {
        var run = Find(request);
        if (request.Params?["inputResponses"] is not JsonObject responses)
        {
            throw new McpProtocolException("tasks/update needs an inputResponses object.", McpErrorCode.InvalidParams);
        }

        run.Deliver(responses.ToDictionary(
            p => p.Key,
            p => new InputResponse { RawValue = JsonSerializer.SerializeToElement(p.Value, McpJsonUtilities.DefaultOptions) },
            StringComparer.Ordinal));
        return Ack();
    }

    private ValueTask<JsonNode?> CancelAsync(RequestContext<JsonNode?> request, CancellationToken cancellationToken)
    {
        Find(request).Cancel();
        return Ack();
    }

    private TaskRun Find(RequestContext<JsonNode?> request)
    {
        if (!Declared(request.JsonRpcRequest))
        {
            throw MissingExtension();
        }

        var id = request.Params?["taskId"] is JsonValue value && value.TryGetValue(out string? text) ? text : null;
        if (id is null || !_runs.TryGetValue(id, out var run) || run.IsExpired)
        {
            throw new McpProtocolException($"Unknown taskId '{id}'.", McpErrorCode.InvalidParams);
        }

        return run;
    }

    // Acks carry nothing of the task: its new state is what the next tasks/get shows.
    private static ValueTask<JsonNode?> Ack() => ValueTask.FromResult<JsonNode?>(new JsonObject { ["resultType"] = "complete" });

    private static bool Declared(JsonRpcRequest request) =>
        InputRounds.IsPerRequestRevision(request) && request.Context?.ClientCapabilities?.Extensions?.ContainsKey(Id) == true;

    private static MissingRequiredClientCapabilityException MissingExtension() => new(
        new ClientCapabilities { Extensions = new Dictionary<string, object> { [Id] = new JsonObject() } },
        $"This needs the {Id} extension: declare it in the request's client capabilities.");
}
