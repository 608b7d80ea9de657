using System.Text.Json;
using Gateway.Web.Console;

namespace Gateway.Tests.Web.Console;

/// <summary>
/// Try it checks the arguments against the whole input schema (JsonSchema.Net), not only its top level: nested
/// objects, arrays, enums and bounds are refused before anything is called, each message saying where; the work is
/// bounded (schema size, error count, time), and a schema the checker cannot read is left to the upstream.
/// </summary>
public sealed class TrialArgumentsSchemaTests
{
    private static readonly JsonElement Schema = JsonDocument.Parse("""
        {
          "type": "object",
          "properties": {
            "query": { "type": "string" },
            "options": {
              "type": "object",
              "properties": {
                "depth": { "type": "integer", "minimum": 1, "maximum": 5 },
                "mode": { "enum": ["fast", "full"] }
              },
              "required": ["mode"],
              "additionalProperties": false
            },
            "tags": { "type": "array", "items": { "type": "string" }, "maxItems": 2 }
          },
          "required": ["query"]
        }
        """).RootElement.Clone();

    [Fact]
    public async Task NestedMistakes_AreRefused_WithWhereTheyAre()
    {
        var errors = await CheckAsync("""{"query":"x","options":{"depth":9,"extra":true},"tags":["a",2,"c"]}""");

        Assert.Contains(errors, e => e.StartsWith("'options.depth':", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("'options':", StringComparison.Ordinal) && e.Contains("mode", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("'options.extra':", StringComparison.Ordinal) || (e.StartsWith("'options':", StringComparison.Ordinal) && e.Contains("extra", StringComparison.Ordinal)));
        Assert.Contains(errors, e => e.StartsWith("'tags.1':", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("'tags':", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ValidArguments_PassTheWholeSchema()
    {
        Assert.Empty(await CheckAsync("""{"query":"x","options":{"depth":5,"mode":"full"},"tags":["a","b"]}"""));

        // The top-level check and the parse agree: the same arguments are accepted there too.
        var errors = new List<string>();
        Assert.NotNull(TrialArguments.Parse("""{"query":"x","options":{"depth":5,"mode":"full"}}""", Schema, errors));
        Assert.Empty(errors);
    }

    [Fact]
    public async Task ErrorsAreListed_UpToTheLimit_AndTheRestCounted()
    {
        var items = string.Join(",", Enumerable.Range(0, TrialArguments.MaxSchemaErrors + 5));
        var schema = JsonDocument.Parse("""{"type":"object","properties":{"names":{"type":"array","items":{"type":"string"}}}}""").RootElement.Clone();
        var errors = await TrialArguments.CheckSchemaAsync(Arguments($$"""{"names":[{{items}}]}"""), schema, CancellationToken.None);

        Assert.Equal(TrialArguments.MaxSchemaErrors + 1, errors.Count);
        Assert.Equal("…and 5 more.", errors[^1]);
    }

    [Fact]
    public async Task ASchemaOverTheBound_OrWithAReferenceOutsideItself_IsLeftToTheUpstream()
    {
        // One character over the bound: the top level was checked already; the rest is the upstream's.
        var padding = new string('x', TrialArguments.MaxSchemaChars);
        var large = JsonDocument.Parse(Padded(padding)).RootElement.Clone();
        Assert.True(large.GetRawText().Length > TrialArguments.MaxSchemaChars);
        Assert.Empty(await TrialArguments.CheckSchemaAsync(Arguments("""{"n":{}}"""), large, CancellationToken.None));

        var remote = JsonDocument.Parse("""{"type":"object","properties":{"n":{"$ref":"https://schemas.invalid/n.json"}}}""").RootElement.Clone();
        Assert.Empty(await TrialArguments.CheckSchemaAsync(Arguments("""{"n":1}"""), remote, CancellationToken.None));

        // Just under the bound it is checked in full.
        var fits = JsonDocument.Parse(Padded(padding[..(TrialArguments.MaxSchemaChars - 200)])).RootElement.Clone();
        Assert.True(fits.GetRawText().Length <= TrialArguments.MaxSchemaChars);
        Assert.NotEmpty(await TrialArguments.CheckSchemaAsync(Arguments("""{"n":{}}"""), fits, CancellationToken.None));
    }

    [Fact]
    public async Task APatternThatBacktracksWithoutEnd_IsGivenUp_WithTheBoundInTheMessage()
    {
        // An upstream's schema with a catastrophic pattern and an argument that sets it off: the check takes its whole
        // bound (or the checker's own regular-expression timeout, as long) and says so; nothing is called.
        var schema = JsonDocument.Parse("""{"type":"object","properties":{"q":{"type":"string","pattern":"^(a+)+$"}}}""").RootElement.Clone();
        var errors = await TrialArguments.CheckSchemaAsync(Arguments($$"""{"q":"{{new string('a', 40)}}!"}"""), schema, CancellationToken.None);

        Assert.Equal([$"The tool's input schema could not be checked within {TrialArguments.MaxSchemaTime.TotalSeconds:0} s; nothing was called."], errors);
    }

    private static string Padded(string description) =>
        """{"type":"object","description":"DESCRIPTION","properties":{"n":{"type":"object","required":["deep"]}}}""".Replace("DESCRIPTION", description, StringComparison.Ordinal);

    // Typed in by a person: a key given twice is named back, where reading it into a dictionary ended the circuit.
    [Fact]
    public void ArgumentsNamingAKeyTwice_AreRefusedNamingIt()
    {
        var errors = new List<string>();

        Assert.Null(TrialArguments.Parse("""{"query":"x","query":"y"}""", Schema, errors));
        Assert.Equal(["Arguments name 'query' twice."], errors);
        errors.Clear();
        Assert.NotNull(TrialArguments.Parse("""{"query":"x"}""", Schema, errors));
        Assert.Empty(errors);
    }

    private static Task<List<string>> CheckAsync(string json) => TrialArguments.CheckSchemaAsync(Arguments(json), Schema, CancellationToken.None);

    private static Dictionary<string, JsonElement> Arguments(string json) =>
        JsonDocument.Parse(json).RootElement.Clone().EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
}
