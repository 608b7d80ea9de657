using System.Text.Json;
using Gateway.Core.Audit;

namespace Gateway.Tests.Core.Audit;

public sealed class ArgumentRedactorTests
{
    private static Dictionary<string, JsonElement> Args(string json) =>
        JsonDocument.Parse(json).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());

    [Theory]
    [InlineData("""{"password":"p","user":"u"}""", """{"password":"[redacted]","user":"u"}""")]
    [InlineData("""{"auth":{"Authorization":"Bearer x","apiKey":"k","API_KEY":"k","client_secret":"s"}}""", """{"auth":{"API_KEY":"[redacted]","Authorization":"[redacted]","apiKey":"[redacted]","client_secret":"[redacted]"}}""")]
    [InlineData("""{"items":[{"token":"t","n":1.50}],"ok":true,"none":null}""", """{"items":[{"n":1.5,"token":"[redacted]"}],"none":null,"ok":true}""")]
    [InlineData("""{"tokens_used":3}""", """{"tokens_used":"[redacted]"}""")]
    public void SecretLookingKeys_AreMasked_AtAnyDepth_InCanonicalForm(string input, string expected) =>
        Assert.Equal(expected, new ArgumentRedactor().Redact(Args(input)));

    [Fact]
    public void ConfiguredPatterns_AreMaskedInsideStrings_AndLongStringsAreCut()
    {
        var redactor = new ArgumentRedactor([@"\b\d{4}-\d{4}-\d{4}-\d{4}\b", "sk-[A-Za-z0-9]+"]);
        Assert.Equal("""{"note":"card [redacted], key [redacted]."}""", redactor.Redact(Args("""{"note":"card 1234-5678-9012-3456, key sk-abcDEF123."}""")));

        var cut = redactor.Redact(Args($$"""{"body":"{{new string('x', 1000)}}"}"""))!;
        Assert.Contains("…[744 more chars]", cut, StringComparison.Ordinal);
        Assert.True(cut.Length < 300);
    }

    [Fact]
    public void NoArguments_HaveNoCopy() => Assert.Null(new ArgumentRedactor().Redact(null));
}
