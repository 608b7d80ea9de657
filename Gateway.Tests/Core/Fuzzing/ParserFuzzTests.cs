using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Core.Grants;
using Gateway.Core.Guardrails;
using Gateway.Core.Policy;
using Gateway.Core.Servers;
using Gateway.Tests.Support;

namespace Gateway.Tests.Core.Fuzzing;

/// <summary>
/// Seeded inputs for what admins and imported files feed the gateway: grant patterns, policy conditions and mcp.json
/// documents. They are refused with a message or accepted; they never throw, and what is accepted then works.
/// </summary>
public sealed class ParserFuzzTests
{
    private static readonly JsonSerializerOptions Deep = new() { MaxDepth = 1024 };

    [Fact]
    public void GrantPatterns_ParseOrAreRefused_AndParsedOnesMatchWithoutThrowing()
    {
        var (seed, count) = Fuzz.Settings(defaultCount: 20_000);
        var fuzz = new Fuzz(seed);
        string[] pieces = ["github", "files", "*", "?", "/", ":", "read", "write", "destructive", "@", "2027-01-01T00:00:00Z", "list_*", "[", "]", "**", "é", "\0", " ", "-", "_", "."];
        var parsed = 0;
        for (var i = 0; i < count; i++)
        {
            var text = string.Concat(Enumerable.Range(0, fuzz.Next(8)).Select(_ => fuzz.Chance(0.8) ? fuzz.Pick(pieces) : fuzz.String(1)));
            var errors = new List<string>();
            try
            {
                var set = GrantSet.Parse([text], errors);
                Assert.True(errors.Count > 0 || set.Grants.Count == 1, $"seed {seed}, input {i}: '{text}' neither parsed nor refused");
                if (set.Grants.Count == 1)
                {
                    parsed++;
                    set.Allows(fuzz.String(2), fuzz.String(2), fuzz.Pick([AccessClass.Read, AccessClass.Write, AccessClass.Destructive]), DateTimeOffset.UnixEpoch);
                }
            }
            catch (Exception ex)
            {
                Assert.Fail($"seed {seed}, input {i}: '{text}' threw {ex.GetType().Name}: {ex.Message}");
            }
        }

        // The generator must reach both sides, or it tests nothing.
        Assert.InRange(parsed, 1, count - 1);
    }

    [Fact]
    public void McpJsonDocuments_ImportOrAreRefused_NeverThrow()
    {
        var (seed, count) = Fuzz.Settings(defaultCount: 5_000);
        var fuzz = new Fuzz(seed);
        const string Template = """
            {"mcpServers":{
              "files":{"command":"npx","args":["-y","@modelcontextprotocol/server-filesystem","/tmp"],"env":{"API_TOKEN":"t0k3n"}},
              "remote":{"type":"http","url":"https://mcp.example.com/mcp","headers":{"Authorization":"Bearer abc"}},
              "legacy":{"url":"https://old.example.com/sse","transport":"sse"}}}
            """;
        var (imported, refused) = (0, 0);
        for (var i = 0; i < count; i++)
        {
            var document = JsonNode.Parse(Template)!;
            fuzz.Mutate(document);
            var text = document.ToJsonString(Deep);
            if (fuzz.Chance(0.2))
            {
                text = fuzz.Damage(text);
            }

            try
            {
                var (servers, error) = McpConfigImport.Parse(text);
                if (error is null)
                {
                    imported++;
                    Assert.All(servers, s => Assert.False(string.IsNullOrEmpty(s.Definition.Name)));
                }
                else
                {
                    refused++;
                }
            }
            catch (Exception ex)
            {
                Assert.Fail($"seed {seed}, input {i}: threw {ex.GetType().Name}: {ex.Message} for {text[..Math.Min(300, text.Length)]}");
            }
        }

        Assert.True(imported > 0 && refused > 0, $"imported {imported}, refused {refused}: the generator must reach both sides");
    }

    [Fact]
    public void PolicyConditions_AreValidatedOrRefused_AndValidRulesEvaluateAnyArguments()
    {
        var (seed, count) = Fuzz.Settings(defaultCount: 5_000);
        var fuzz = new Fuzz(seed);
        string[] paths = ["path", "message", "a.b", "a[0]", "items[*].name", "@server.labels", "@session.labels", "@session.findings", "", "..", "a..b", "[", "a[-1]", "a[99999999999]"];
        var operators = Enum.GetValues<ConditionOperator>().Append((ConditionOperator)99).ToArray();
        var (valid, invalid) = (0, 0);
        var validator = new PolicyRuleValidator();
        for (var i = 0; i < count; i++)
        {
            var conditions = Enumerable.Range(0, fuzz.Next(4)).Select(_ => new ArgumentCondition(
                fuzz.Chance(0.8) ? fuzz.Pick(paths) : fuzz.String(2),
                fuzz.Pick(operators),
                JsonSerializer.SerializeToElement(fuzz.Chance(0.3) ? fuzz.Pick(["^a.*$", "(a+)+$", "[", "/tmp", "/", "private"]) : fuzz.Value(), Deep))).ToList();
            var rule = new PolicyRule { Name = "r" + i, Effect = fuzz.Pick([PolicyEffect.Allow, PolicyEffect.Escalate, PolicyEffect.Block]), Tools = [fuzz.Chance(0.5) ? "*" : fuzz.String(1)], Conditions = conditions };
            try
            {
                if (!validator.Validate(rule).IsValid)
                {
                    invalid++;
                    continue;
                }

                valid++;
                var engine = new PolicyEngine([rule]);
                var arguments = (fuzz.Value() as JsonObject ?? new JsonObject { ["path"] = fuzz.Value() })
                    .ToDictionary(p => p.Key, p => JsonSerializer.SerializeToElement(p.Value, Deep));
                var session = new SessionFacts(known: true);
                session.Record([fuzz.String(1)], [fuzz.String(1)]);
                engine.Evaluate(new PolicyInput("agent", [], "server", "tool", AccessClass.Write, arguments, [fuzz.String(1)], session));
            }
            catch (Exception ex)
            {
                Assert.Fail($"seed {seed}, input {i}: threw {ex.GetType().Name}: {ex.Message} for {JsonSerializer.Serialize(conditions)}");
            }
        }

        Assert.True(valid > 0 && invalid > 0, $"valid {valid}, invalid {invalid}: the generator must reach both sides");
    }
}
