using System.ComponentModel;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using static Gateway.TestUpstream.Conformance.InputRounds;

namespace Gateway.TestUpstream.Conformance;

/// <summary>
/// The fixtures of the tasks-* scenarios (SEP-2663). Each is an ordinary tool; <see cref="TasksExtension"/> runs the
/// task-supporting ones as tasks for a client that declared the extension. Inside a task a tool waits for input by
/// parking the task (input_required, answered with tasks/update); outside one it asks through MRTR as usual.
/// </summary>
[McpServerToolType]
public sealed class TaskTools
{
    /// <summary>How a tool runs as a task: optionally or only, and which inputs it gathers (MRTR) before it does.</summary>
    public sealed record TaskSupport(bool Required, string[] InputsBeforeTask);

    private static readonly Dictionary<string, TaskSupport> Supported = new(StringComparer.Ordinal)
    {
        ["slow_compute"] = new(false, []),
        ["confirm_delete"] = new(false, []),
        ["multi_input"] = new(false, []),
        ["protocol_error_job"] = new(false, []),
        ["failing_job"] = new(true, []),
        ["test_tool_with_task"] = new(true, ["user_name"]),
    };

    public static TaskSupport? Support(string? tool) => tool is not null && Supported.TryGetValue(tool, out var support) ? support : null;

    [McpServerTool(Name = "greet"), Description("Greets by name, synchronously: never a task.")]
    public static string Greet([Description("Who to greet")] string name) => $"Hello, {name}!";

    [McpServerTool(Name = "slow_compute"), Description("Sleeps the given seconds (at most 300), then answers; a task when the client declares the tasks extension.")]
    public static async Task<string> SlowCompute(
        [Description("How long to take")] int seconds, [Description("A label echoed in the answer")] string? label, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromSeconds(Math.Clamp(seconds, 0, 300)), cancellationToken);
        return $"Computed {label ?? "(no label)"} after {seconds}s.";
    }

    [McpServerTool(Name = "failing_job"), Description("Runs only as a task and ends with a tool error (isError) after half a second.")]
    public static async Task<CallToolResult> FailingJob(CancellationToken cancellationToken)
    {
        await Task.Delay(500, cancellationToken);
        return new CallToolResult { IsError = true, Content = [new TextContentBlock { Text = "The job failed, as it always does." }] };
    }

    [McpServerTool(Name = "protocol_error_job"), Description("Fails with a protocol error (-32603), which ends its task as failed.")]
    public static async Task<string> ProtocolErrorJob(CancellationToken cancellationToken)
    {
        await Task.Delay(100, cancellationToken);
        throw new McpProtocolException("The job crashed.", McpErrorCode.InternalError);
    }

    [McpServerTool(Name = "confirm_delete"), Description("Asks the user to confirm (elicitation) before it pretends to delete a file.")]
    public static async Task<string> ConfirmDelete(
        [Description("The file to delete")] string filename, RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        var answers = await InputsAsync(context, new Dictionary<string, InputRequest> { ["confirm"] = AskConfirmation($"Delete {filename}?", "confirm") }, cancellationToken);
        return Field(ElicitationOf(answers["confirm"], "confirm"), "confirm") == "true" ? $"Deleted {filename}." : $"Kept {filename}.";
    }

    [McpServerTool(Name = "multi_input"), Description("Asks two things at once (a name and a confirmation); answers may come one at a time.")]
    public static async Task<string> MultiInput(RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        var answers = await InputsAsync(
            context,
            new Dictionary<string, InputRequest> { ["name"] = AskText("What is your name?", "name"), ["confirm"] = AskConfirmation("Go ahead?", "confirm") },
            cancellationToken);
        return $"Both answered: name={Field(ElicitationOf(answers["name"], "name"), "name")}, confirm={Field(ElicitationOf(answers["confirm"], "confirm"), "confirm")}.";
    }

    [McpServerTool(Name = "test_tool_with_task"), Description("Asks the user's name (MRTR), then finishes as a task that greets them.")]
    public static async Task<string> ToolWithTask(RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        var answers = await InputsAsync(context, new Dictionary<string, InputRequest> { ["user_name"] = AskText("What is your name?", "name") }, cancellationToken);
        await Task.Delay(100, cancellationToken);
        return $"Hello, {Field(ElicitationOf(answers["user_name"], "user_name"), "name")}! The task is done.";
    }

    /// <summary>The answers to <paramref name="asks"/>: from this request's inputResponses, else from the client by
    /// parking the task (inside one) or by an input-required result (outside, where the call is retried).</summary>
    private static async Task<Dictionary<string, InputResponse>> InputsAsync(
        RequestContext<CallToolRequestParams> context, Dictionary<string, InputRequest> asks, CancellationToken cancellationToken)
    {
        var given = context.Params?.InputResponses;
        var answers = asks.Keys.Where(k => given?.ContainsKey(k) == true).ToDictionary(k => k, k => given![k], StringComparer.Ordinal);
        var missing = asks.Where(a => !answers.ContainsKey(a.Key)).ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
        if (missing.Count == 0)
        {
            return answers;
        }

        if (TaskRun.Current is { } run)
        {
            foreach (var (key, answer) in await run.AskAsync(missing, cancellationToken))
            {
                answers[key] = answer;
            }

            return answers;
        }

        Require(Capabilities(context.Server, context.JsonRpcRequest), "elicitation");
        throw Ask(missing);
    }
}
