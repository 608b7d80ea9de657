using Gateway.Core.Audit.Evidence;

namespace Gateway.Tests.Core.Audit;

/// <summary>
/// The controls each framework's evidence pack names: the SOC 2 criteria, ISO/IEC 27001:2022 Annex A controls and DORA
/// articles it claims, each with what its figures show and what they cannot show, and every section of the pack mapped
/// to at least one control (so no figure stands without its limits).
/// </summary>
public sealed class EvidenceFrameworkTests
{
    public static TheoryData<string, string[]> Named => new()
    {
        { "soc2", ["CC6.1", "CC6.2", "CC6.3", "CC7.2", "CC8.1"] },
        { "iso27001", ["A.5.15", "A.5.16", "A.5.17", "A.5.18", "A.8.15", "A.8.16", "A.8.32"] },
        { "dora", ["Art. 9", "Art. 10", "Art. 12", "Art. 17"] },
    };

    [Theory]
    [MemberData(nameof(Named))]
    public void EachControl_SaysWhatItShows_AndWhatItCannotShow_AndEverySectionHasAControl(string framework, string[] controls)
    {
        var f = EvidenceFramework.All[framework];
        Assert.Equal(controls, f.Controls.Select(c => c.Id));
        Assert.All(f.Controls, c =>
        {
            Assert.False(string.IsNullOrWhiteSpace(c.Name), c.Id);
            Assert.NotEmpty(c.Sections);
            Assert.True(c.Shows.Length > 40, $"{c.Id}: what it shows");
            Assert.True(c.CannotShow.Length > 40, $"{c.Id}: what it cannot show");
            Assert.NotEqual(c.Shows, c.CannotShow);
            Assert.Equal(c.Sections.Count, c.Sections.Distinct().Count());
        });

        // Keys and credentials, pin changes, guardrail findings, approvals, access changes and the chain: each under a control.
        Assert.Equal(Enum.GetValues<EvidenceSection>().Order(), f.Controls.SelectMany(c => c.Sections).Distinct().Order());
    }
}
