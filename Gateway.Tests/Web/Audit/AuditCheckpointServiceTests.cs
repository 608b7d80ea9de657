using Gateway.Web.Audit;
using Gateway.Web.Hosting;

namespace Gateway.Tests.Web.Audit;

public sealed class AuditCheckpointServiceTests
{
    [Theory]
    [InlineData(0, 3600, false)]
    [InlineData(1, 59, false)]
    [InlineData(1, 60, true)]
    [InlineData(9_999, 1, false)]
    [InlineData(10_000, 1, true)]
    [InlineData(25_000, 0, true)]
    public void Checkpoint_IsDueAfterTheIntervalOrTheEntryCount(long added, int ageSeconds, bool due) =>
        Assert.Equal(due, AuditCheckpointService.IsDue(added, TimeSpan.FromSeconds(ageSeconds), new AuditOptions()));
}
