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
}
