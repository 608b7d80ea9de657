using System.Collections.Concurrent;
using Gateway.Core.Pipeline;

namespace Gateway.Tests.Core.Pipeline;

/// <summary>Call ids are RFC 9562 UUIDv7, laid out as <see cref="Guid.CreateVersion7(DateTimeOffset)"/> lays them out, and unique.</summary>
public sealed class CallIdsTests
{
    [Fact]
    public void AnId_IsAVersion7Uuid_OfItsMillisecond_LikeTheFrameworks()
    {
        var now = new DateTimeOffset(2026, 12, 4, 10, 40, 0, 123, TimeSpan.Zero);
        var id = CallIds.New(now);
        var parsed = Guid.ParseExact(id, "N");

        Assert.Matches("^[0-9a-f]{32}$", id);
        Assert.Equal(7, parsed.Version);
        Assert.Equal(0x8, parsed.Variant & 0xC);
        Assert.Equal(now.ToUnixTimeMilliseconds().ToString("x12"), id[..12]);

        // The framework's own v7 for the same instant: the same timestamp, version and variant digits.
        var framework = Guid.CreateVersion7(now).ToString("N");
        Assert.Equal(framework[..13], id[..13]);
        Assert.Contains(id[16], "89ab");
        Assert.Contains(framework[16], "89ab");
    }

    [Fact]
    public void Ids_AreUniqueAcrossThreads_AndSortByTheirMillisecond()
    {
        var ids = new ConcurrentBag<string>();
        var start = new DateTimeOffset(2026, 12, 4, 10, 40, 0, TimeSpan.Zero);
        Parallel.For(0, 4, thread =>
        {
            for (var i = 0; i < 25_000; i++)
            {
                // Four milliseconds, so many ids share one: their random bits alone keep them apart.
                ids.Add(CallIds.New(start.AddMilliseconds(i % 4)));
            }
        });

        Assert.Equal(100_000, ids.Distinct(StringComparer.Ordinal).Count());
        var sorted = ids.Order(StringComparer.Ordinal).Select(id => Convert.ToInt64(id[..12], 16)).ToList();
        Assert.Equal(sorted.Order().ToList(), sorted);
        Assert.Equal(4, sorted.Distinct().Count());

        // Every id's 74 random bits are not stuck: each of the 18 random hex digits takes several values.
        var list = ids.ToList();
        foreach (var position in Enumerable.Range(13, 19).Where(p => p != 16))
        {
            Assert.True(list.Select(id => id[position]).Distinct().Count() > 8, $"hex digit {position}");
        }
    }
}
