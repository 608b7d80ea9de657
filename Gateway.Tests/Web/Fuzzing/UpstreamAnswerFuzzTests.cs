using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Core.Audit;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Fuzzing;

/// <summary>
/// Seeded, mutated answers from an upstream (the result's tree mutated, the message's text damaged: truncated, stray
/// bytes, members named twice, a batch), over HTTP with JSON and with event streams, to an agent's calls through a real
/// gateway. Holds: every call answered within a bound (one the upstream never answered readably ends at the server's
/// call timeout), never a 5xx, never a handler's failure, no answer that names a member twice, every forwarded call's
/// audit entry completed, nothing logged as an error, and afterwards the same connection answers a valid call and the
/// audit chain verifies. A failure names the seed and the input.
/// </summary>
public sealed class UpstreamAnswerFuzzTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Key = "upstream-fuzz-agent-key-0123";
    private static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MutatedAnswers_AreAnsweredWithinABound_Audited_AndLeaveTheConnectionHealthy(bool sse)
    {
        var (seed, count) = Fuzz.Settings(defaultCount: 300);
        var fuzz = new Fuzz(seed);
        var (app, upstream, url) = await RawUpstream.StartHttpAsync(sse, idLast: false);
        await using var _ = app;
        var errors = new List<string>();
        var settings = Merge(Http("raw", url), Agent("agent", Key, "raw/echo"), new Dictionary<string, string?> { ["Gateway:Servers:raw:CallTimeout"] = "1" });
        await using var gateway = await GatewayHost.StartAsync(settings, logSink: errors, sinkLevel: Microsoft.Extensions.Logging.LogLevel.Error);
        await gateway.WaitForToolAsync("raw__echo");
        var session = await RawMcp.OpenSessionAsync(gateway.McpUri, Key);

        var current = string.Empty;
        upstream.EchoAnswerMutator = json =>
        {
            var message = JsonNode.Parse(json)!;
            if (fuzz.Chance(0.85))
            {
                fuzz.Mutate(message["result"]!);
            }

            var text = message.ToJsonString();
            text = fuzz.Chance(0.2) ? fuzz.Damage(text) : text;
            current = text;
            return text;
        };

        var statuses = new Dictionary<int, int>();
        var slowest = TimeSpan.Zero;
        for (var i = 0; i < count; i++)
        {
            current = "(not asked)";
            var body = """{"jsonrpc":"2.0","id":ID,"method":"tools/call","params":{"name":"raw__echo","arguments":{"message":"echo"}}}""".Replace("ID", (i + 10).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
            var started = Stopwatch.GetTimestamp();
            using var answer = new CancellationTokenSource(AnswerBound);
            HttpStatusCode status;
            try
            {
                using var response = await RawMcp.PostBodyAsync(gateway.McpUri, Key, session, body, answer.Token);
                status = response.StatusCode;
                var text = await response.Content.ReadAsStringAsync(answer.Token);
                // The SDK's words for a handler that threw: a failure of the gateway's, whatever the upstream sent.
                Assert.False(text.Contains("An error occurred invoking", StringComparison.Ordinal), $"seed {seed}, input {i}: the gateway's handler failed on the upstream's {Fuzz.Shorten(current)}");
                Assert.True(NoMemberTwice(text), $"seed {seed}, input {i}: the agent got a member named twice: {Fuzz.Shorten(text)} for the upstream's {Fuzz.Shorten(current)}");
            }
            catch (OperationCanceledException) when (answer.IsCancellationRequested)
            {
                Assert.Fail($"seed {seed}, input {i}: no answer within {AnswerBound.TotalSeconds} s to the upstream's {Fuzz.Shorten(current)}");
                throw;
            }

            var took = Stopwatch.GetElapsedTime(started);
            slowest = took > slowest ? took : slowest;
            statuses[(int)status] = statuses.GetValueOrDefault((int)status) + 1;
            Assert.True((int)status < 500, $"seed {seed}, input {i}: HTTP {(int)status} for the upstream's {Fuzz.Shorten(current)}");
        }

        Assert.Empty(ListLoggerProvider.Snapshot(errors));

        // Every forwarded call's entry was completed (an answer, an error, or the call timeout).
        var trail = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Tool == "raw__echo").ToList();
        var startedIds = trail.Where(r => r.Kind == AuditKinds.ToolCallStarted).Select(r => r.CallId).ToHashSet();
        var endedIds = trail.Where(r => r.Kind == AuditKinds.ToolCall).Select(r => r.CallId).ToHashSet();
        Assert.Equal(count, startedIds.Count);
        Assert.Subset(endedIds, startedIds);

        // The same connection answers a valid call; the chain verifies.
        upstream.EchoAnswerMutator = null;
        var valid = await RawMcp.PostBodyAsync(gateway.McpUri, Key, session, """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"raw__echo","arguments":{"message":"after the storm"}}}""", TestContext.Timeout);
        Assert.Contains("after the storm", await valid.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        Assert.Equal(0, Assert.Single(gateway.Upstreams.Connections, c => c.Name == "raw").Restarts);
        var verifier = new AuditVerifier();
        foreach (var entry in await gateway.AuditTrailAsync())
        {
            verifier.Add(entry);
        }

        var verification = verifier.Complete();
        Assert.True(verification.Intact, verification.Problem);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fuzz upstream answers ({(sse ? "sse" : "json")}): seed {seed}, {count} inputs, statuses {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}x{s.Value}"))}, slowest {slowest.TotalMilliseconds:0} ms"));
    }

    /// <summary>Whether no object in the answer (a JSON body, or the data of each event) names a member twice.</summary>
    private static bool NoMemberTwice(string answer)
    {
        var messages = answer.TrimStart().StartsWith('{')
            ? [answer]
            : answer.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal) && l.Length > 6).Select(l => l[6..]);
        try
        {
            foreach (var message in messages)
            {
                using var _ = JsonDocument.Parse(message, new JsonDocumentOptions { AllowDuplicateProperties = false });
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
