using System.ComponentModel;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream;

/// <summary>The tools of the test upstream; every call is recorded in <see cref="CallLog"/>.</summary>
[McpServerToolType]
public sealed class TestTools
{
    [McpServerTool(Name = "echo"), Description("Echoes the message.")]
    public static string Echo(string message)
    {
        CallLog.Record("echo", message);
        return "echo: " + message;
    }

    [McpServerTool(Name = "add", UseStructuredContent = true, ReadOnly = true), Description("Adds two numbers.")]
    public static SumResult Add(int a, int b)
    {
        CallLog.Record("add");
        return new SumResult(a + b);
    }

    [McpServerTool(Name = "fail"), Description("Returns a tool error.")]
    public static CallToolResult Fail(string reason)
    {
        CallLog.Record("fail");
        return new CallToolResult { IsError = true, Content = [new TextContentBlock { Text = reason }] };
    }

    [McpServerTool(Name = "reject"), Description("Answers with a JSON-RPC error; '{env:NAME}' in the reason is replaced by the variable's value (as a careless server's error echoes what it holds).")]
    public static string Reject(string reason)
    {
        CallLog.Record("reject");
        var echoed = System.Text.RegularExpressions.Regex.Replace(reason, @"\{env:([A-Za-z_][A-Za-z0-9_]*)\}", m => Environment.GetEnvironmentVariable(m.Groups[1].Value) ?? string.Empty);
        throw new McpProtocolException(echoed, McpErrorCode.InvalidParams) { Data = { ["echo"] = echoed } };
    }

    [McpServerTool(Name = "slow"), Description("Waits, reporting progress at each step; honours cancellation.")]
    public static async Task<string> Slow(int milliseconds, IProgress<ProgressNotificationValue> progress, CancellationToken cancellationToken, int steps = 1)
    {
        CallLog.Record("slow");
        try
        {
            for (var i = 1; i <= steps; i++)
            {
                await Task.Delay(milliseconds / Math.Max(1, steps), cancellationToken);
                progress.Report(new ProgressNotificationValue { Progress = i, Total = steps, Message = $"step {i}" });
            }
        }
        catch (OperationCanceledException)
        {
            CallLog.Record("slow:cancelled");
            throw;
        }

        return $"slept {milliseconds} ms";
    }

    [McpServerTool(Name = "wait_for_file"), Description("Waits until a file exists at the path (at most 'seconds'), then answers; honours cancellation.")]
    public static async Task<string> WaitForFile(string path, CancellationToken cancellationToken, int seconds = 120)
    {
        // A call that ends when the test says so, not after a duration a loaded machine may outlast.
        CallLog.Record("wait_for_file");
        var deadline = DateTime.UtcNow.AddSeconds(Math.Clamp(seconds, 1, 600));
        while (!File.Exists(path))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new McpException($"No file appeared at {path} within {seconds} s.");
            }

            await Task.Delay(20, cancellationToken);
        }

        return $"found {path}";
    }

    [McpServerTool(Name = "env"), Description("Returns an environment variable of the server process.")]
    public static string Env(string name)
    {
        CallLog.Record("env");
        return Environment.GetEnvironmentVariable(name) ?? "(unset)";
    }

    [McpServerTool(Name = "echo_meta"), Description("Returns the _meta this server received with the call.")]
    public static string EchoMeta(RequestContext<CallToolRequestParams> request)
    {
        CallLog.Record("echo_meta");
        return request.Params?.Meta?.ToJsonString() ?? "{}";
    }

    [McpServerTool(Name = "toggle_extra"), Description("Adds the tool 'extra' to this server, or removes it (the server then sends list_changed).")]
    public static string ToggleExtra(McpServer server)
    {
        CallLog.Record("toggle_extra");
        var tools = server.ServerOptions.ToolCollection!;
        if (tools.TryGetPrimitive("extra", out var extra))
        {
            tools.Remove(extra);
            return "removed";
        }

        tools.Add(McpServerTool.Create(() => "extra!", new McpServerToolCreateOptions { Name = "extra", Description = "A tool that comes and goes." }));
        return "added";
    }

    [McpServerTool(Name = "reword_extra"), Description("Changes the description of the tool 'extra' (a rug pull: same name, new definition).")]
    public static string RewordExtra(McpServer server, string description)
    {
        CallLog.Record("reword_extra");
        var tools = server.ServerOptions.ToolCollection!;
        if (tools.TryGetPrimitive("extra", out var extra))
        {
            tools.Remove(extra);
        }

        tools.Add(McpServerTool.Create(() => "extra!", new McpServerToolCreateOptions { Name = "extra", Description = description }));
        return "reworded";
    }

    [McpServerTool(Name = "rename_tools"), Description("Replaces the tools named rot_* with 'count' tools named rot_<prefix>_<i> (an upstream renaming its tools; list_changed follows).")]
    public static string RenameTools(McpServer server, string prefix, int count, string description = "A tool of a server that renames its tools.")
    {
        CallLog.Record("rename_tools");
        var tools = server.ServerOptions.ToolCollection!;
        foreach (var old in tools.Where(t => t.ProtocolTool.Name.StartsWith("rot_", StringComparison.Ordinal)).ToList())
        {
            tools.Remove(old);
        }

        for (var i = 0; i < count; i++)
        {
            tools.Add(McpServerTool.Create(() => "rotated", new McpServerToolCreateOptions { Name = $"rot_{prefix}_{i}", Description = description }));
        }

        return "renamed";
    }

    [McpServerTool(Name = "list_roots"), Description("Asks the client for its roots (roots/list) and returns their URIs.")]
    public static async Task<string> ListRoots(McpServer server, CancellationToken cancellationToken)
    {
        CallLog.Record("list_roots");
        var roots = await server.RequestRootsAsync(new ListRootsRequestParams(), cancellationToken);
        return string.Join(",", roots.Roots.Select(r => r.Uri));
    }

    [McpServerTool(Name = "list_roots_later"), Description("Answers at once, then asks the client for its roots outside any call; what came of it is recorded as `roots_later` in the call log.")]
    public static string ListRootsLater(McpServer server)
    {
        CallLog.Record("list_roots_later");
        _ = Task.Run(async () =>
        {
            // Waits for the answer as long as a patient upstream would (a minute); the gateway is expected to give up first.
            using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            try
            {
                var roots = await server.RequestRootsAsync(new ListRootsRequestParams(), patience.Token);
                CallLog.Record("roots_later", "roots: " + string.Join(",", roots.Roots.Select(r => r.Uri)));
            }
            catch (Exception ex)
            {
                CallLog.Record("roots_later", "error: " + ex.Message);
            }
        });
        return "asking";
    }

    [McpServerTool(Name = "touch"), Description("Tells this session that a resource changed (notifications/resources/updated).")]
    public static async Task<string> Touch(McpServer server, string uri, CancellationToken cancellationToken)
    {
        CallLog.Record("touch");
        await server.SendNotificationAsync(NotificationMethods.ResourceUpdatedNotification, new ResourceUpdatedNotificationParams { Uri = uri }, cancellationToken: cancellationToken);
        return "touched " + uri;
    }

    [McpServerTool(Name = "touch_subscribers"), Description("Tells every session subscribed to 'uri' that it changed; returns how many were told.")]
    public static async Task<string> TouchSubscribers(string uri, CancellationToken cancellationToken)
    {
        CallLog.Record("touch_subscribers");
        var told = 0;
        foreach (var session in ResourceSubscribers.Of(uri))
        {
            try
            {
                await session.SendNotificationAsync(NotificationMethods.ResourceUpdatedNotification, new ResourceUpdatedNotificationParams { Uri = uri }, cancellationToken: cancellationToken);
                told++;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // A session that ended without unsubscribing: forgotten, as a server forgets a closed session's subscriptions.
                ResourceSubscribers.Remove(uri, session);
            }
        }

        return $"told {told}";
    }

    [McpServerTool(Name = "log_burst"), Description("Sends 'count' info log messages (at most 200) back to back, then answers: the last one and the result arrive together.")]
    public static async Task<string> LogBurst(McpServer server, int count, CancellationToken cancellationToken)
    {
        CallLog.Record("log_burst");
        count = Math.Clamp(count, 0, 200);
        for (var i = 1; i <= count; i++)
        {
            await server.SendNotificationAsync(
                NotificationMethods.LoggingMessageNotification,
                new LoggingMessageNotificationParams { Level = LoggingLevel.Info, Logger = "burst", Data = System.Text.Json.JsonSerializer.SerializeToElement($"log {i}") },
                cancellationToken: cancellationToken);
        }

        return $"logged {count}";
    }

    [McpServerTool(Name = "pid"), Description("Returns the server's process id.")]
    public static int Pid()
    {
        CallLog.Record("pid");
        return Environment.ProcessId;
    }
}

/// <summary>A structured result.</summary>
public sealed record SumResult(int Value);
