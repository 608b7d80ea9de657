using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gateway.TestUpstream;

/// <summary>
/// A hand-written MCP server (no SDK), so tests can control the bytes on the wire: where the id sits in a response
/// (first, like .NET and Python, or last, like the TypeScript SDK), how large a result is, and how fast it is written.
/// <c>Gateway.TestUpstream raw-stdio [--id-last] [--chatter] [--extra-tool NAME]</c> serves stdio (<c>--chatter</c>: a log message every 20 ms,
/// and no <c>ping</c> ever answered: an upstream that is stuck but keeps writing); <see cref="StartHttpAsync"/> serves HTTP with JSON
/// or event-stream responses. Tools: <c>big {bytes}</c>, <c>trickle {bytes, seconds}</c> (stdio: writes the result
/// slowly), <c>echo {message}</c>, <c>cancelled</c> (the ids of the requests the client cancelled, or whose HTTP
/// response it abandoned), <c>failing</c> (a JSON-RPC error with data), <c>twice {where}</c> (a result with a member
/// named twice, or a notification with one before the answer) and <c>invalid {where}</c> (a result that is not one),
/// both listed when <see cref="ExtraToolName"/> or <c>--extra-tool</c> names them, and over HTTP with event streams
/// <c>list_changed {count}</c> (that many <c>notifications/tools/list_changed</c> before the result) and
/// <c>resumable {message, ends}</c>: a log message and progress, then the stream ends before the result, which a GET with
/// <c>Last-Event-ID</c> gets (SEP-1699) after <c>ends</c> more GETs that end with nothing but a new event id.
/// </summary>
public sealed class RawUpstream
{
    private const int ChunkBytes = 64 * 1024;
    private readonly bool _idLast;
    private readonly ConcurrentQueue<string> _cancelled = new();
    private readonly ConcurrentDictionary<string, (string Result, int Ends)> _resumable = new();
    private readonly ConcurrentQueue<IReadOnlyDictionary<string, string>> _calls = new();

    private int _pings;
    private int _standaloneGets;
    private int _answers;
    private int _toolLists;
    private int _mostLargeToolPages;
    private readonly Lock _pagesGate = new();
    private readonly ConcurrentDictionary<string, bool> _listsAsked = new();
    private readonly TaskCompletionSource _allListsAsked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _sessionsOpened;
    private string? _session;

    private RawUpstream(bool idLast) => _idLast = idLast;

    /// <summary>Gets how many sessions <c>initialize</c> opened (see <c>sessions</c>).</summary>
    public int SessionsOpened => Volatile.Read(ref _sessionsOpened);

    /// <summary>Gets or sets whether <c>ping</c> goes unanswered (everything else is answered).</summary>
    public bool MutePings { get; set; }

    /// <summary>Forgets the open session, as a restart does: requests naming it are refused from now on.</summary>
    public void ForgetSessions() => Volatile.Write(ref _session, "forgotten");

    /// <summary>Gets or sets the name of one more tool <c>tools/list</c> offers (a name as long as a test wants).</summary>
    public string? ExtraToolName { get; set; }

    /// <summary>Gets or sets whether <c>tools/list</c> names a member twice in <c>echo</c>'s input schema.</summary>
    public bool TwiceInToolList { get; set; }

    /// <summary>Gets or sets what becomes of each answer to <c>echo</c> before it is written (the whole JSON-RPC message's text).</summary>
    public Func<string, string>? EchoAnswerMutator { get; set; }

    /// <summary>Gets or sets whether <c>tools/list</c> always answers one tool and a next cursor (a list without end).</summary>
    public bool EndlessToolPages { get; set; }

    /// <summary>
    /// Gets or sets how many pages of one large tool each (a description of <see cref="LargeToolBytes"/> characters)
    /// <c>tools/list</c> answers before its usual page.
    /// </summary>
    public int LargeToolPages { get; set; }

    /// <summary>Gets or sets the length of each large tool's description (<see cref="LargeToolPages"/>).</summary>
    public int LargeToolBytes { get; set; }

    /// <summary>
    /// Gets or sets whether the server also offers prompts and resources, and holds its answer to each of its four lists
    /// until all four have been asked for (a client that reads them one after another is answered, after
    /// <see cref="ListsTogetherWait"/>, with an error saying so).
    /// </summary>
    public bool ListsTogether { get; set; }

    /// <summary>How long a list waits for the others when <see cref="ListsTogether"/> is set.</summary>
    public static readonly TimeSpan ListsTogetherWait = TimeSpan.FromSeconds(5);

    /// <summary>Gets how many <c>tools/list</c> requests were answered.</summary>
    public int ToolLists => Volatile.Read(ref _toolLists);

    /// <summary>
    /// Gets the most pages one reading of the large tools' list asked for (<see cref="LargeToolPages"/>; its final, usual
    /// page included). Unlike <see cref="ToolLists"/> it does not grow when the client reconnects and reads the list again.
    /// </summary>
    public int MostLargeToolPagesInOneListing => Volatile.Read(ref _mostLargeToolPages);

    /// <summary>Gets how many GET requests for the standalone stream arrived (see <c>failStandaloneWith</c>).</summary>
    public int StandaloneGets => Volatile.Read(ref _standaloneGets);

    /// <summary>
    /// Gets or sets how many <c>ping</c> requests the standalone stream (a GET) sends the client at once, followed by a
    /// <c>notifications/tools/list_changed</c> as a marker; the client's answers (POSTs) are then held, never answered.
    /// </summary>
    public int FloodOnStandalone { get; set; }

    /// <summary>Gets how many answers of the client's to this server's requests arrived (held when flooding).</summary>
    public int AnswersReceived => Volatile.Read(ref _answers);

    /// <summary>Gets how many <c>ping</c> requests were answered.</summary>
    public int Pings => Volatile.Read(ref _pings);

    /// <summary>Gets the MCP headers (and Authorization) of each HTTP <c>tools/call</c> request, in arrival order.</summary>
    public IReadOnlyCollection<IReadOnlyDictionary<string, string>> CallHeaders => _calls;

    /// <summary>Gets the ids of the requests the client cancelled or abandoned.</summary>
    public IReadOnlyCollection<string> Cancelled => _cancelled;

    public static async Task<int> RunStdioAsync(string[] args)
    {
        var extra = Array.IndexOf(args, "--extra-tool");
        var server = new RawUpstream(args.Contains("--id-last")) { MutePings = args.Contains("--chatter"), ExtraToolName = extra >= 0 && extra + 1 < args.Length ? args[extra + 1] : null };
        var stdout = Console.OpenStandardOutput();
        using var stdin = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
        var writing = new SemaphoreSlim(1, 1);
        var running = new List<Task>();
        if (server.MutePings)
        {
            _ = Task.Run(async () =>
            {
                var line = Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"still here\"}}\n");
                while (true)
                {
                    await Task.Delay(20);
                    await writing.WaitAsync();
                    try
                    {
                        await stdout.WriteAsync(line);
                        await stdout.FlushAsync();
                    }
                    finally
                    {
                        writing.Release();
                    }
                }
            });
        }

        while (await stdin.ReadLineAsync() is { } line)
        {
            if (JsonNode.Parse(line) is not JsonObject message)
            {
                continue;
            }

            // Each request on its own task: a ping is read while a slow result is still being written.
            running.Add(Task.Run(async () =>
            {
                await writing.WaitAsync();
                try
                {
                    await server.HandleAsync(message, stdout, sse: false, CancellationToken.None);
                }
                finally
                {
                    writing.Release();
                }
            }));
        }

        await Task.WhenAll(running);
        return 0;
    }

    /// <summary>Serves over HTTP on a loopback port: POST answers with JSON, or with an event stream when <paramref name="sse"/>.</summary>
    /// <param name="failStandaloneWith">
    /// When set, the standalone stream (a GET) is served once, with one event id, and ends; every GET after it, which
    /// resumes from that id, is answered with this status (a proxy in front of a server being deployed, say).
    /// </param>
    /// <param name="sessions">
    /// When set, <c>initialize</c> opens a session (<c>Mcp-Session-Id</c>), and any other request naming another session
    /// is refused with HTTP 400 and "No valid session ID provided", as the TypeScript SDK's example server does after a
    /// restart; <see cref="ForgetSessions"/> plays the restart.
    /// </param>
    public static async Task<(WebApplication App, RawUpstream Server, string Url)> StartHttpAsync(bool sse, bool idLast = false, int? failStandaloneWith = null, bool sessions = false)
    {
        var server = new RawUpstream(idLast);
        // Watches no files: its content root is the working directory, which may hold a gateway's database (the bench).
        var builder = WebApplication.CreateSlimBuilder(["--hostBuilder:reloadConfigOnChange=false"]);
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1));
        var app = builder.Build();
        app.MapPost("/mcp", async context =>
        {
            if (await JsonNode.ParseAsync(context.Request.Body) is not JsonObject message)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            if (sessions)
            {
                if ((string?)message["method"] == "initialize")
                {
                    var opened = "s-" + Interlocked.Increment(ref server._sessionsOpened);
                    Volatile.Write(ref server._session, opened);
                    context.Response.Headers["Mcp-Session-Id"] = opened;
                }
                else if (context.Request.Headers["Mcp-Session-Id"].ToString() != Volatile.Read(ref server._session))
                {
                    context.Response.StatusCode = StatusCodes.Status400BadRequest;
                    context.Response.ContentType = "application/json";
                    await context.Response.WriteAsync("""{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"},"id":null}""");
                    return;
                }
            }

            if (message["method"] is null && message["id"] is not null)
            {
                // The client's answer to one of this server's requests: held while flooding (an upstream that never
                // reads what it asked for), else taken.
                Interlocked.Increment(ref server._answers);
                if (server.FloodOnStandalone > 0)
                {
                    try
                    {
                        await Task.Delay(Timeout.Infinite, context.RequestAborted);
                    }
                    catch (OperationCanceledException)
                    {
                        // The client gave up.
                    }

                    return;
                }

                context.Response.StatusCode = StatusCodes.Status202Accepted;
                return;
            }

            if (message["id"] is null)
            {
                await server.HandleAsync(message, Stream.Null, sse, context.RequestAborted);
                context.Response.StatusCode = StatusCodes.Status202Accepted;
                return;
            }

            var id = message["id"]!.ToJsonString();
            if ((string?)message["method"] == "tools/call")
            {
                server._calls.Enqueue(context.Request.Headers
                    .Where(h => h.Key.StartsWith("Mcp-", StringComparison.OrdinalIgnoreCase) || h.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase))
                    .ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase));
                if (sse && (string?)message["params"]?["name"] == "resumable")
                {
                    await server.StartResumableAsync(message, id, context.Response);
                    return;
                }
            }

            context.RequestAborted.Register(() => server._cancelled.Enqueue(id));
            context.Response.ContentType = sse ? "text/event-stream" : "application/json";
            try
            {
                await server.HandleAsync(message, context.Response.Body, sse, context.RequestAborted);
            }
            catch (Exception) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client went away mid-answer: recorded above.
            }
        });
        app.MapMethods("/mcp", ["GET", "DELETE"], async context =>
        {
            if (server.FloodOnStandalone is > 0 and var flood && context.Request.Method == "GET" && Interlocked.Increment(ref server._standaloneGets) == 1)
            {
                context.Response.ContentType = "text/event-stream";
                var events = new StringBuilder();
                for (var i = 0; i < flood; i++)
                {
                    events.Append(CultureInfo.InvariantCulture, $"data: {{\"jsonrpc\":\"2.0\",\"id\":\"flood-{i}\",\"method\":\"ping\"}}\n\n");
                }

                events.Append("data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}\n\n");
                await context.Response.WriteAsync(events.ToString());
                await context.Response.Body.FlushAsync();
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    // The client closed the stream.
                }

                return;
            }

            if (failStandaloneWith is { } status && context.Request.Method == "GET" && !server._resumable.ContainsKey(context.Request.Headers["Last-Event-ID"].ToString()))
            {
                if (Interlocked.Increment(ref server._standaloneGets) == 1)
                {
                    context.Response.ContentType = "text/event-stream";
                    await context.Response.WriteAsync("id: standalone-1\ndata: \n\n");
                    return;
                }

                context.Response.StatusCode = status;
                return;
            }

            // Only the resumption of a stream that ended before its result; no standalone stream.
            if (context.Request.Method == "GET" && server._resumable.TryRemove(context.Request.Headers["Last-Event-ID"].ToString(), out var rest))
            {
                context.Response.ContentType = "text/event-stream";
                if (rest.Ends > 0)
                {
                    // Ends again without the result: only a new event id to resume from.
                    var next = "r-" + Guid.NewGuid().ToString("N");
                    server._resumable[next] = (rest.Result, rest.Ends - 1);
                    await context.Response.WriteAsync($"id: {next}\ndata: \n\n");
                    return;
                }

                await context.Response.WriteAsync($"id: done\ndata: {rest.Result}\n\n");
                return;
            }

            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
        });
        await app.StartAsync();
        return (app, server, app.Urls.First().TrimEnd('/') + "/mcp");
    }

    private async Task HandleAsync(JsonObject message, Stream output, bool sse, CancellationToken cancellationToken)
    {
        var method = (string?)message["method"];
        var id = message["id"]?.ToJsonString();
        if (id is null)
        {
            if (method == "notifications/cancelled" && message["params"]?["requestId"] is { } cancelled)
            {
                _cancelled.Enqueue(cancelled.ToJsonString());
            }

            return;
        }

        var parameters = message["params"] as JsonObject;
        if (ListsTogether && method is "tools/list" or "prompts/list" or "resources/list" or "resources/templates/list" && !await AllListsAskedAsync(method, cancellationToken))
        {
            await WriteAsync(output, sse, id, null, cancellationToken, """{"code":-32603,"message":"The lists were not asked for together."}""");
            return;
        }

        switch (method)
        {
            case "initialize":
                var version = (string?)parameters?["protocolVersion"] ?? "2025-11-25";
                var capabilities = ListsTogether ? """{"tools":{},"prompts":{},"resources":{}}""" : """{"tools":{}}""";
                await WriteAsync(output, sse, id, "{\"protocolVersion\":" + JsonSerializer.Serialize(version) + ",\"capabilities\":" + capabilities + ""","serverInfo":{"name":"raw","version":"1.0.0"}}""", cancellationToken);
                break;
            case "prompts/list" when ListsTogether:
                await WriteAsync(output, sse, id, """{"prompts":[{"name":"greeting"}]}""", cancellationToken);
                break;
            case "resources/list" when ListsTogether:
                await WriteAsync(output, sse, id, """{"resources":[{"uri":"test://one","name":"one"}]}""", cancellationToken);
                break;
            case "resources/templates/list" when ListsTogether:
                await WriteAsync(output, sse, id, """{"resourceTemplates":[{"uriTemplate":"test://{n}","name":"numbered"}]}""", cancellationToken);
                break;
            case "ping" when MutePings:
                break;
            case "ping":
                Interlocked.Increment(ref _pings);
                await WriteAsync(output, sse, id, "{}", cancellationToken);
                break;
            case "tools/list" when EndlessToolPages:
                // Always one more page: a list that never ends.
                var page = Interlocked.Increment(ref _toolLists);
                await WriteAsync(output, sse, id, $$$"""{"tools":[{"name":"page{{{page}}}","inputSchema":{"type":"object"}}],"nextCursor":"c{{{page}}}"}""", cancellationToken);
                break;
            case "tools/list" when (int.TryParse(((string?)parameters?["cursor"])?.TrimStart('L'), out var done) ? done : 0) < LargeToolPages:
                Interlocked.Increment(ref _toolLists);
                var next = (int.TryParse(((string?)parameters?["cursor"])?.TrimStart('L'), out var before) ? before : 0) + 1;
                RecordLargeToolPage(next);
                await WriteAsync(output, sse, id, $$$"""{"tools":[{"name":"large{{{next}}}","description":"{{{new string('d', LargeToolBytes)}}}","inputSchema":{"type":"object"}}],"nextCursor":"L{{{next}}}"}""", cancellationToken);
                break;
            case "tools/list":
                Interlocked.Increment(ref _toolLists);
                if (LargeToolPages > 0 && int.TryParse(((string?)parameters?["cursor"])?.TrimStart('L'), out var last))
                {
                    RecordLargeToolPage(last + 1);
                }

                await WriteAsync(output, sse, id, """
                    {"tools":[
                    {"name":"big","description":"Returns a text of the given size.","inputSchema":{"type":"object","properties":{"bytes":{"type":"integer"}}}},
                    {"name":"trickle","description":"Returns a text of the given size, written slowly.","inputSchema":{"type":"object","properties":{"bytes":{"type":"integer"},"seconds":{"type":"number"}}}},
                    {"name":"echo","description":"Echoes the message.","inputSchema":{"type":"object",TWICE"properties":{"message":{"type":"string"}}}},
                    {"name":"cancelled","description":"Lists the cancelled request ids.","inputSchema":{"type":"object"}},
                    {"name":"failing","description":"Fails with a JSON-RPC error.","inputSchema":{"type":"object"}},
                    {"name":"resumable","description":"Ends its stream before the result (resume with Last-Event-ID), and `ends` more times after.","inputSchema":{"type":"object","properties":{"message":{"type":"string"},"ends":{"type":"integer"}}}},
                    {"name":"list_changed","description":"Sends `count` tools/list_changed notifications on its event stream, then answers.","inputSchema":{"type":"object","properties":{"count":{"type":"integer"}}}}]}
                    """.ReplaceLineEndings(string.Empty).Replace("TWICE", TwiceInToolList ? "\"type\":\"object\"," : string.Empty, StringComparison.Ordinal).Replace("}}]}", ExtraToolName is null ? "}}]}" : "}},{\"name\":" + JsonSerializer.Serialize(ExtraToolName) + ",\"inputSchema\":{\"type\":\"object\"}}]}", StringComparison.Ordinal), cancellationToken);
                break;
            case "tools/call":
                var arguments = parameters?["arguments"] as JsonObject;
                switch ((string?)parameters?["name"])
                {
                    case "big":
                        await WriteTextAsync(output, sse, id, (long?)arguments?["bytes"] ?? 0, TimeSpan.Zero, cancellationToken);
                        break;
                    case "trickle":
                        await WriteTextAsync(output, sse, id, (long?)arguments?["bytes"] ?? 0, TimeSpan.FromSeconds((double?)arguments?["seconds"] ?? 1), cancellationToken);
                        break;
                    case "echo":
                        await WriteAsync(output, sse, id, Text((string?)arguments?["message"] ?? string.Empty), cancellationToken, mutator: EchoAnswerMutator);
                        break;
                    case "cancelled":
                        await WriteAsync(output, sse, id, Text(string.Join(",", _cancelled)), cancellationToken);
                        break;
                    case "twice" when Where(arguments) == "notification":
                        // A notification whose params name a member twice (not over HTTP with JSON: one message a body), then the answer.
                        await WriteFramedAsync(output, sse, ["""{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1,"requestId":2}}"""u8.ToArray()], TimeSpan.Zero, cancellationToken);
                        await WriteAsync(output, sse, id, Text("after"), cancellationToken);
                        break;
                    case "twice":
                        // Members named twice where an upstream's answer can hold them: in a content block, the
                        // structured content, _meta, and the result itself (which JSON parsers read first- or last-wins).
                        await WriteAsync(output, sse, id, Where(arguments) switch
                        {
                            "result" => """{"content":[{"type":"text","text":"first"}],"content":[{"type":"text","text":"second"}]}""",
                            "structured" => """{"content":[{"type":"text","text":"{}"}],"structuredContent":{"n":1,"n":2}}""",
                            "meta" => """{"content":[{"type":"text","text":"m"}],"_meta":{"m":1,"m":2}}""",
                            _ => """{"content":[{"type":"text","text":"first","text":"second"}]}""",
                        }, cancellationToken);
                        break;
                    case "invalid":
                        // Results the SDK's reader cannot take, and one it reads as a null list.
                        await WriteAsync(output, sse, id, Where(arguments) switch
                        {
                            "unknown-type" => """{"content":[{"type":"nope"}]}""",
                            "text-missing" => """{"content":[{"type":"text"}]}""",
                            "not-a-list" => """{"content":{"type":"text","text":"x"}}""",
                            "unreadable" => """{"content":[""",
                            _ => """{"content":null}""",
                        }, cancellationToken);
                        break;
                    case "failing":
                        await WriteAsync(output, sse, id, null, cancellationToken, """{"code":-32050,"message":"Out of stock.","data":{"sku":"A1","left":0}}""");
                        break;
                    case "list_changed":
                        var count = (int?)arguments?["count"] ?? 1;
                        for (var i = 0; i < count; i++)
                        {
                            await WriteFramedAsync(output, sse, ["""{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"""u8.ToArray()], TimeSpan.Zero, cancellationToken);
                        }

                        await WriteAsync(output, sse, id, Text($"sent {count}"), cancellationToken);
                        break;
                    default:
                        await WriteAsync(output, sse, id, null, cancellationToken, """{"code":-32602,"message":"Unknown tool."}""");
                        break;
                }

                break;
            default:
                await WriteAsync(output, sse, id, null, cancellationToken, """{"code":-32601,"message":"Method not found."}""");
                break;
        }
    }

    /// <summary>
    /// <c>resumable</c>: a priming event with an id, a log message, progress if asked, then the end of the stream; the
    /// result waits for a GET with the last event's id.
    /// </summary>
    private async Task StartResumableAsync(JsonObject message, string id, HttpResponse response)
    {
        var eventId = "r-" + Guid.NewGuid().ToString("N");
        var echo = (string?)message["params"]?["arguments"]?["message"] ?? string.Empty;
        var ends = (int?)message["params"]?["arguments"]?["ends"] ?? 0;
        _resumable[eventId] = ("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":" + Text("resumed: " + echo) + "}", ends);
        response.ContentType = "text/event-stream";
        var events = new StringBuilder("id: primed\nretry: 10\ndata: \n\n");
        events.Append("data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"working\"}}\n\n");
        if (message["params"]?["_meta"]?["progressToken"] is { } token)
        {
            events.Append("data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":" + token.ToJsonString() + ",\"progress\":1,\"total\":2}}\n\n");
        }

        events.Append("id: " + eventId + "\ndata: \n\n");
        await response.WriteAsync(events.ToString());
    }

    private static string? Where(JsonObject? arguments) => (string?)arguments?["where"];

    private static string Text(string text) => """{"content":[{"type":"text","text":""" + JsonSerializer.Serialize(text) + "}]}";

    // ListsTogether: true once all four lists have been asked for, false if they were not within the wait.
    private async Task<bool> AllListsAskedAsync(string method, CancellationToken cancellationToken)
    {
        _listsAsked[method] = true;
        if (_listsAsked.Count == 4)
        {
            _allListsAsked.TrySetResult();
        }

        try
        {
            await _allListsAsked.Task.WaitAsync(ListsTogetherWait, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private Task WriteAsync(Stream output, bool sse, string id, string? result, CancellationToken cancellationToken, string? error = null, Func<string, string>? mutator = null)
    {
        var member = result is null ? $"\"error\":{error}" : $"\"result\":{result}";
        var json = _idLast ? $"{{{member},\"jsonrpc\":\"2.0\",\"id\":{id}}}" : $"{{\"jsonrpc\":\"2.0\",\"id\":{id},{member}}}";
        json = mutator is null ? json : mutator(json);
        return WriteFramedAsync(output, sse, [Encoding.UTF8.GetBytes(json)], TimeSpan.Zero, cancellationToken);
    }

    /// <summary>Writes a text result of <paramref name="bytes"/> bytes in chunks, spread over <paramref name="over"/>.</summary>
    private async Task WriteTextAsync(Stream output, bool sse, string id, long bytes, TimeSpan over, CancellationToken cancellationToken)
    {
        const string Open = "{\"content\":[{\"type\":\"text\",\"text\":\"";
        var head = _idLast ? "{\"result\":" + Open : "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":" + Open;
        var tail = _idLast ? "\"}]},\"jsonrpc\":\"2.0\",\"id\":" + id + "}" : "\"}]}}";
        await WriteFramedAsync(output, sse, Chunks(Encoding.UTF8.GetBytes(head), bytes, Encoding.UTF8.GetBytes(tail)), over, cancellationToken);
    }

    private static IEnumerable<byte[]> Chunks(byte[] head, long bytes, byte[] tail)
    {
        yield return head;
        var chunk = Enumerable.Repeat((byte)'x', ChunkBytes).ToArray();
        for (var left = bytes; left > 0; left -= ChunkBytes)
        {
            yield return left >= ChunkBytes ? chunk : chunk[..(int)left];
        }

        yield return tail;
    }

    private static async Task WriteFramedAsync(Stream output, bool sse, IEnumerable<byte[]> parts, TimeSpan over, CancellationToken cancellationToken)
    {
        var list = parts as IReadOnlyCollection<byte[]> ?? [.. parts];
        var pause = list.Count > 1 ? over / list.Count : TimeSpan.Zero;
        if (sse)
        {
            await output.WriteAsync("event: message\ndata: "u8.ToArray(), cancellationToken);
        }

        foreach (var part in list)
        {
            await output.WriteAsync(part, cancellationToken);
            if (pause > TimeSpan.Zero)
            {
                await output.FlushAsync(cancellationToken);
                await Task.Delay(pause, cancellationToken);
            }
        }

        await output.WriteAsync(sse ? "\n\n"u8.ToArray() : "\n"u8.ToArray(), cancellationToken);
        await output.FlushAsync(cancellationToken);
    }

    // The page's place in its listing: the cursor names the large pages before it.
    private void RecordLargeToolPage(int page)
    {
        lock (_pagesGate)
        {
            _mostLargeToolPages = Math.Max(_mostLargeToolPages, page);
        }
    }
}
