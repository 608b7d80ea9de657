using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.TestUpstream.Conformance;

/// <summary>
/// One task of the tasks extension (SEP-2663): a tool call that runs on after its tools/call answered, observed with
/// tasks/get, fed with tasks/update when it waits for input, stopped with tasks/cancel. Its status moves from
/// working (and input_required) to exactly one of completed, failed or cancelled, and stays there.
/// </summary>
public sealed class TaskRun
{
    public const string Working = "working";
    public const string InputRequired = "input_required";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static readonly TimeSpan TimeToLive = TimeSpan.FromMinutes(10);
    public const int PollIntervalMs = 200;

    // The run whose tool is executing on this flow: how a tool asks for input inside a task instead of through MRTR.
    private static readonly AsyncLocal<TaskRun?> Running = new();

    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _cancellation = new();
    private readonly Dictionary<string, InputRequest> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, InputResponse> _answers = new(StringComparer.Ordinal);
    private TaskCompletionSource? _inputsArrived;
    private JsonNode? _result;
    private JsonObject? _error;

    public TaskRun()
    {
        CreatedAt = LastUpdatedAt = DateTimeOffset.UtcNow;
    }

    public static TaskRun? Current => Running.Value;

    /// <summary>Unguessable: the id is all a tasks/get needs, and tasks of different clients share this server.</summary>
    public string Id { get; } = Guid.NewGuid().ToString("N");

    public DateTimeOffset CreatedAt { get; }

    public DateTimeOffset LastUpdatedAt { get; private set; }

    public string Status { get; private set; } = Working;

    public CancellationToken Cancellation => _cancellation.Token;

    public bool IsExpired => DateTimeOffset.UtcNow - LastUpdatedAt > TimeToLive;

    /// <summary>Runs <paramref name="body"/> as this task, recording how it ends.</summary>
    public async Task RunAsync(Func<Task<CallToolResult>> body)
    {
        Running.Value = this;
        try
        {
            var result = await body();
            Finish(Completed, JsonSerializer.SerializeToNode(result, McpJsonUtilities.DefaultOptions), null);
        }
        catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
        {
            // tasks/cancel already recorded the outcome.
        }
        catch (McpProtocolException ex)
        {
            Finish(Failed, null, new JsonObject { ["code"] = (int)ex.ErrorCode, ["message"] = ex.Message });
        }
        catch (Exception ex)
        {
            Finish(Failed, null, new JsonObject { ["code"] = (int)McpErrorCode.InternalError, ["message"] = ex.Message });
        }
    }

    /// <summary>Parks the task in input_required until tasks/update has answered every one of <paramref name="asks"/>.</summary>
    public async Task<IDictionary<string, InputResponse>> AskAsync(IDictionary<string, InputRequest> asks, CancellationToken cancellationToken)
    {
        Task arrived;
        lock (_lock)
        {
            if (Status == Cancelled)
            {
                throw new OperationCanceledException(_cancellation.Token);
            }

            _pending.Clear();
            _answers.Clear();
            foreach (var (key, ask) in asks)
            {
                _pending[key] = ask;
            }

            _inputsArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            arrived = _inputsArrived.Task;
            SetStatus(InputRequired);
        }

        await arrived.WaitAsync(cancellationToken);
        lock (_lock)
        {
            return new Dictionary<string, InputResponse>(_answers, StringComparer.Ordinal);
        }
    }

    /// <summary>
    /// tasks/update: takes the answers to pending asks (others are ignored) and resumes the task once none is left, so
    /// a client may answer one ask at a time.
    /// </summary>
    public void Deliver(IDictionary<string, InputResponse> responses)
    {
        lock (_lock)
        {
            if (Status != InputRequired)
            {
                return;
            }

            foreach (var (key, response) in responses)
            {
                if (_pending.Remove(key))
                {
                    _answers[key] = response;
                }
            }

            LastUpdatedAt = DateTimeOffset.UtcNow;
            if (_pending.Count == 0)
            {
                SetStatus(Working);
                _inputsArrived?.TrySetResult();
            }
        }
    }

    /// <summary>tasks/cancel: a running task ends cancelled at once; a finished one keeps its outcome.</summary>
    public void Cancel()
    {
        if (Finish(Cancelled, null, null))
        {
            _cancellation.Cancel();
        }
    }

    /// <summary>The flat CreateTaskResult of the tools/call that started the task (a Result and a Task in one).</summary>
    public CreateTaskResult ToCreateTaskResult()
    {
        lock (_lock)
        {
            return new CreateTaskResult
            {
                TaskId = Id,
                Status = Status,
                CreatedAt = Timestamp(CreatedAt),
                LastUpdatedAt = Timestamp(LastUpdatedAt),
                TtlMs = (long)TimeToLive.TotalMilliseconds,
                PollIntervalMs = PollIntervalMs,
            };
        }
    }

    /// <summary>The DetailedTask of tasks/get: the result, error or pending asks inlined according to the status.</summary>
    public JsonObject ToDetailedTask()
    {
        lock (_lock)
        {
            var task = new JsonObject
            {
                ["resultType"] = "complete",
                ["taskId"] = Id,
                ["status"] = Status,
                ["createdAt"] = Timestamp(CreatedAt),
                ["lastUpdatedAt"] = Timestamp(LastUpdatedAt),
                ["ttlMs"] = (long)TimeToLive.TotalMilliseconds,
                ["pollIntervalMs"] = PollIntervalMs,
            };
            switch (Status)
            {
                case Completed:
                    task["result"] = _result?.DeepClone();
                    break;
                case Failed:
                    task["error"] = _error?.DeepClone();
                    break;
                case InputRequired:
                    task["inputRequests"] = JsonSerializer.SerializeToNode(_pending, McpJsonUtilities.DefaultOptions);
                    break;
            }

            return task;
        }
    }

    private bool Finish(string status, JsonNode? result, JsonObject? error)
    {
        lock (_lock)
        {
            if (Status is Completed or Failed or Cancelled)
            {
                return false;
            }

            _result = result;
            _error = error;
            _pending.Clear();
            SetStatus(status);
            return true;
        }
    }

    private void SetStatus(string status)
    {
        Status = status;
        LastUpdatedAt = DateTimeOffset.UtcNow;
    }

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}

/// <summary>What tools/call answers when it started a task: resultType "task" and the task's fields, flat.</summary>
public sealed class CreateTaskResult : Result
{
    public CreateTaskResult()
    {
        ResultType = "task";
    }

    [JsonPropertyName("taskId")]
    public required string TaskId { get; init; }

    [JsonPropertyName("status")]
    public required string Status { get; init; }

    [JsonPropertyName("createdAt")]
    public required string CreatedAt { get; init; }

    [JsonPropertyName("lastUpdatedAt")]
    public required string LastUpdatedAt { get; init; }

    [JsonPropertyName("ttlMs")]
    public long TtlMs { get; init; }

    [JsonPropertyName("pollIntervalMs")]
    public int PollIntervalMs { get; init; }
}
