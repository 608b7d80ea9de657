using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Core.Audit;

namespace Gateway.Tests.Core.Audit;

public sealed class CanonicalJsonTests
{
    [Theory]
    [InlineData("{\"b\":2,\"a\":1}", "{\"a\":1,\"b\":2}")]
    [InlineData("{ \"z\" : [3, 2, {\"y\":1,\"x\":null}], \"a\":true }", "{\"a\":true,\"z\":[3,2,{\"x\":null,\"y\":1}]}")]
    [InlineData("\"\\u00e9\\n\\u001f\\\"\"", "\"é\\n\\u001f\\\"\"")]
    [InlineData("{\"\\u20ac\":1,\"\\r\":2,\"1\":3}", "{\"\\r\":2,\"1\":3,\"€\":1}")]
    public void Serialize_SortsKeysAndNormalizesWhitespaceAndStrings(string input, string expected)
    {
        using var doc = JsonDocument.Parse(input);
        Assert.Equal(expected, CanonicalJson.Serialize(doc.RootElement));
    }

    // Number vectors from RFC 8785, appendix B, and ECMAScript Number.prototype.toString.
    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(1.0, "1")]
    [InlineData(-1.5, "-1.5")]
    [InlineData(100.0, "100")]
    [InlineData(1e21, "1e+21")]
    [InlineData(1e20, "100000000000000000000")]
    [InlineData(1e-7, "1e-7")]
    [InlineData(0.000001, "0.000001")]
    [InlineData(123456789012345680000.0, "123456789012345680000")]
    [InlineData(4.50, "4.5")]
    [InlineData(2e-3, "0.002")]
    [InlineData(0.000001234, "0.000001234")]
    [InlineData(1.7976931348623157e308, "1.7976931348623157e+308")]
    [InlineData(5e-324, "5e-324")]
    [InlineData(333333333.33333329, "333333333.3333333")]
    public void FormatNumber_FollowsEcmaScript(double value, string expected) =>
        Assert.Equal(expected, CanonicalJson.FormatNumber(value));

    [Fact]
    public void Sha256_IgnoresKeyOrder_AndDistinguishesValues()
    {
        using var a = JsonDocument.Parse("{\"x\":1,\"y\":\"two\"}");
        using var b = JsonDocument.Parse("{\"y\":\"two\",\"x\":1.0}");
        using var c = JsonDocument.Parse("{\"x\":2,\"y\":\"two\"}");
        static Dictionary<string, JsonElement> Props(JsonDocument d) => d.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);

        Assert.Equal(CanonicalJson.Sha256(Props(a)), CanonicalJson.Sha256(Props(b)));
        Assert.NotEqual(CanonicalJson.Sha256(Props(a)), CanonicalJson.Sha256(Props(c)));
        Assert.Equal(CanonicalJson.Sha256(null), CanonicalJson.Sha256(new Dictionary<string, JsonElement>()));
    }

    // Strings long enough to cross the writer's 4,096-character buffers (and to be unescaped a piece at a time), with a
    // surrogate pair at every position around the first boundary and escapes among them: the hash is that of the whole
    // text's UTF-8 however the text was cut, and the text is what the per-character escaping gives.
    [Fact]
    public void Sha256_IsTheHashOfTheWholeCanonicalText_AcrossTheWritersBuffers()
    {
        var random = new Random(20261206);
        for (var before = 4070; before < 4110; before++)
        {
            var value = new string('a', before) + "\U0001F600" + RandomText(random, 9000);
            var input = new Dictionary<string, object> { ["k"] = value, ["n"] = before, ["list"] = new[] { value[..100], "\u0001" } };

            // As JSON escapes everything beyond ASCII (\uXXXX, surrogate pairs as two) and as it carries it as UTF-8.
            foreach (var encoder in new[] { JavaScriptEncoder.Default, JavaScriptEncoder.UnsafeRelaxedJsonEscaping })
            {
                using var doc = JsonDocument.Parse(JsonSerializer.Serialize(input, new JsonSerializerOptions { Encoder = encoder }));
                var properties = doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);

                var text = CanonicalJson.SerializeObject(properties);
                Assert.Equal("{\"k\":" + Escape(value) + ",\"list\":[" + Escape(value[..100]) + ",\"\\u0001\"],\"n\":" + before + "}", text);
                Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text))), CanonicalJson.Sha256(properties));
            }
        }
    }

    // A lone surrogate escape cannot be read as a string: refused the same way whether the string is short or long enough
    // to be unescaped a piece at a time.
    [Theory]
    [InlineData("\\ud800")]
    [InlineData("\\udc00x")]
    [InlineData("\\ud800\\u0041")]
    [InlineData("\\ud800\\ud800")]
    public void ALoneSurrogateEscape_IsRefused_ShortOrLong(string escape)
    {
        foreach (var padding in new[] { 10, 10_000 })
        {
            using var doc = JsonDocument.Parse("{\"k\":\"" + new string('a', padding) + escape + "b\"}");
            var properties = doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);

            Assert.Throws<InvalidOperationException>(() => CanonicalJson.SerializeObject(properties));
            Assert.Throws<InvalidOperationException>(() => CanonicalJson.Sha256(properties));
        }
    }

    private static string RandomText(Random random, int length)
    {
        var sb = new StringBuilder(length);
        while (sb.Length < length)
        {
            sb.Append(random.Next(10) switch
            {
                0 => ((char)random.Next(0x20)).ToString(),
                1 => "\"\\",
                2 => "\U0001F4A9",
                3 => "\u00e9\u20ac",
                _ => new string((char)random.Next('a', 'z' + 1), random.Next(1, 50)),
            });
        }

        return sb.ToString();
    }

    // The escaping as RFC 8785 states it, one character at a time.
    private static string Escape(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\b' => "\\b",
                '\f' => "\\f",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < ' ' => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }

        return sb.Append('"').ToString();
    }
}
