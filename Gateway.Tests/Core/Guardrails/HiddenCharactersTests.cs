using Gateway.Core.Guardrails;

namespace Gateway.Tests.Core.Guardrails;

public sealed class HiddenCharactersTests
{
    public static TheoryData<string, string> Cases => Corpus.Read("hidden-characters.txt");

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheCorpus_IsFoundAndStripped_AndLegitimateUsesAreLeftAlone(string expected, string text)
    {
        var kinds = new List<string>();
        var stripped = HiddenCharacters.Scan(text, (kind, _) => kinds.Add(kind));
        if (expected == "none")
        {
            Assert.Empty(kinds);
            Assert.Same(text, stripped);
            return;
        }

        Assert.Equal([expected], kinds);
        Assert.True(stripped.Length < text.Length);
        Assert.False(HiddenCharacters.MayContain(stripped) && HiddenCharacters.Scan(stripped, null) != stripped);
    }
}
