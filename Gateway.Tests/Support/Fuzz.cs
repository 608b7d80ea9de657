using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Gateway.Tests.Support;

/// <summary>
/// The seeded input generator of the fuzz tests. The seed and the count come from <c>GATEWAY_FUZZ_SEED</c> and
/// <c>GATEWAY_FUZZ_COUNT</c> (a quick run by default; README: the long run), and every failure names the seed and the
/// input's index, so any failure replays exactly.
/// </summary>
internal sealed class Fuzz(int seed)
{
    private static readonly string[] Tricky =
    [
        string.Empty, " ", "\0", "\n", "\r\n", "\u202E", "\u200B", "\uFEFF", "\uD800", "é", "𝕏", "%00", "../..", "*", "?", "/", ":", "@", "\\",
        "null", "true", "1e400", "-0", "NaN", "{", "}", "[", "]", "\"", "__", "io.modelcontextprotocol/protocolVersion", "_meta", "2026-07-28", "2025-11-25",
    ];

    private readonly Random _random = new(seed);

    /// <summary>Gets the seed, to name in failures.</summary>
    public int Seed { get; } = seed;

    /// <summary>The fuzz run's seed and input count: the environment's, else the quick defaults.</summary>
    public static (int Seed, int Count) Settings(int defaultCount)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("GATEWAY_FUZZ_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : 20261130;
        var count = int.TryParse(Environment.GetEnvironmentVariable("GATEWAY_FUZZ_COUNT"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var c) ? c : defaultCount;
        return (seed, count);
    }

    public int Next(int max) => _random.Next(max);

    public bool Chance(double p) => _random.NextDouble() < p;

    public T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    /// <summary>A string of tricky pieces, random characters and, now and then, a long run.</summary>
    public string String(int maxPieces = 6)
    {
        var text = new StringBuilder();
        var pieces = _random.Next(maxPieces + 1);
        for (var i = 0; i < pieces; i++)
        {
            text.Append(_random.Next(4) switch
            {
                0 => Pick(Tricky),
                1 => ((char)_random.Next(0x20, 0x7F)).ToString(),
                2 => ((char)_random.Next(0, 0xFFFF)).ToString(),
                _ => Chance(0.1) ? new string('x', _random.Next(300, 20_000)) : "abc_" + _random.Next(100),
            });
        }

        return text.ToString();
    }

    /// <summary>A JSON value of any kind, nested up to <paramref name="depth"/>.</summary>
    public JsonNode? Value(int depth = 3)
    {
        switch (_random.Next(depth <= 0 ? 6 : 9))
        {
            case 0: return null;
            case 1: return JsonValue.Create(Chance(0.5));
            case 2: return JsonValue.Create(_random.Next(int.MinValue, int.MaxValue));
            case 3: return JsonValue.Create(_random.NextDouble() * Math.Pow(10, _random.Next(-10, 300)));
            case 4:
            case 5: return JsonValue.Create(String());
            case 6:
                var array = new JsonArray();
                for (var i = _random.Next(4); i > 0; i--)
                {
                    array.Add(Value(depth - 1));
                }

                return array;
            case 7:
                // Deep nesting, past what a parser allows.
                JsonNode deep = new JsonArray();
                for (var i = _random.Next(10, 200); i > 0; i--)
                {
                    deep = new JsonArray(deep);
                }

                return deep;
            default:
                var obj = new JsonObject();
                for (var i = _random.Next(4); i > 0; i--)
                {
                    obj[String(2)] = Value(depth - 1);
                }

                return obj;
        }
    }

    /// <summary>Mutates a JSON document: a node replaced, removed or added, possibly several times.</summary>
    public void Mutate(JsonNode root)
    {
        for (var round = _random.Next(1, 4); round > 0; round--)
        {
            var nodes = new List<JsonNode>();
            Collect(root, nodes);
            var target = Pick(nodes);
            switch (target)
            {
                case JsonObject obj when obj.Count > 0 && Chance(0.4):
                    obj.Remove(obj.ElementAt(_random.Next(obj.Count)).Key);
                    break;
                case JsonObject obj when Chance(0.5):
                    obj[Chance(0.5) ? String(2) : obj.ElementAtOrDefault(0).Key ?? "x"] = Value();
                    break;
                case JsonObject obj when obj.Count > 0:
                    obj[obj.ElementAt(_random.Next(obj.Count)).Key] = Value();
                    break;
                case JsonArray array when array.Count > 0:
                    array[_random.Next(array.Count)] = Value();
                    break;
                case JsonArray array:
                    array.Add(Value());
                    break;
            }
        }
    }

    /// <summary>An input or an answer as a failure message shows it: the first 300 characters, and the length past that.</summary>
    public static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + $"… ({text.Length} chars)";

    /// <summary>Text-level damage that no JSON tree can express: truncation, stray bytes, duplicate keys, a batch.</summary>
    public string Damage(string json) => _random.Next(7) switch
    {
        0 => json[.._random.Next(json.Length + 1)],
        1 => json.Insert(_random.Next(json.Length + 1), Pick(Tricky)),
        2 => json.Replace("{\"", "{\"name\":1,\"", StringComparison.Ordinal),
        3 => "[" + json + "," + json + "]",
        4 => json.Replace("\"params\":{", "\"params\":{\"_meta\":{},\"_meta\":5,", StringComparison.Ordinal),
        5 => MemberTwice(json),
        _ => json,
    };

    /// <summary>The first member of one of the objects given twice: <c>{"a":1}</c> becomes <c>{"a":null,"a":1}</c>.</summary>
    private string MemberTwice(string json)
    {
        var objects = new List<int>();
        for (var at = json.IndexOf("{\"", StringComparison.Ordinal); at >= 0; at = json.IndexOf("{\"", at + 1, StringComparison.Ordinal))
        {
            objects.Add(at);
        }

        if (objects.Count == 0)
        {
            return json;
        }

        var open = Pick(objects);
        var nameEnd = json.IndexOf('"', open + 2);
        return nameEnd < 0 ? json : json.Insert(open + 1, json[(open + 1)..(nameEnd + 1)] + ":null,");
    }

    private static void Collect(JsonNode node, List<JsonNode> nodes)
    {
        nodes.Add(node);
        var children = node switch
        {
            JsonObject obj => obj.Select(p => p.Value),
            JsonArray array => array,
            _ => [],
        };
        foreach (var child in children)
        {
            if (child is JsonObject or JsonArray)
            {
                Collect(child, nodes);
            }
        }
    }
}
