using Gateway.Core.Catalog;
using Gateway.Core.Grants;

using Gateway.Core.Policy;

namespace Gateway.Tests.Core;

public sealed class NamespacedCatalogTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static ServerItems<string> Server(string name, string prefix, params string[] tools) =>
        new(name, prefix, [.. tools.Select(t => (t, $"{name}:{t}"))]);

    [Fact]
    public void Build_PrefixesNames_AndResolvesToTheOriginal()
    {
        var catalog = NamespacedCatalog<string>.Build([Server("github", "github__", "list_issues"), Server("files", "files__", "read")]);

        Assert.Equal(["github__list_issues", "files__read"], catalog.Entries.Select(e => e.ExposedName));
        Assert.True(catalog.TryResolve("files__read", out var entry));
        Assert.Equal(("files", "read", "files:read"), (entry.Server, entry.OriginalName, entry.Item));
        Assert.False(catalog.TryResolve("read", out _));
        Assert.Empty(catalog.Collisions);
    }

    [Fact]
    public void Build_SameFinalName_KeepsEarlierServer_AndRecordsTheCollision()
    {
        var catalog = NamespacedCatalog<string>.Build([Server("a", "", "search", "only_a"), Server("b", "", "search", "only_b")]);

        Assert.Equal(["search", "only_a", "only_b"], catalog.Entries.Select(e => e.ExposedName));
        Assert.True(catalog.TryResolve("search", out var entry));
        Assert.Equal("a", entry.Server);
        var collision = Assert.Single(catalog.Collisions);
        Assert.Equal(("search", "b", "a"), (collision.ExposedName, collision.Server, collision.ExposedByServer));
        Assert.Contains("not exposed", collision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_PrefixedNameCollidingWithAnotherServersName_IsRejectedToo()
    {
        var catalog = NamespacedCatalog<string>.Build([Server("x", "", "a__tool"), Server("a", "a__", "tool")]);

        Assert.Single(catalog.Entries);
        Assert.Equal("a", Assert.Single(catalog.Collisions).Server);
    }

    [Fact]
    public void VisibleTo_ReturnsOnlyGrantedTools()
    {
        var catalog = NamespacedCatalog<string>.Build([Server("github", "gh_", "list_issues", "delete_repo"), Server("files", "f_", "read")]);
        var grants = GrantSet.Parse(["github/list_*"], new List<string>());

        Assert.Equal(["gh_list_issues"], catalog.VisibleTo(grants, Now).Select(e => e.ExposedName));
        Assert.Empty(catalog.VisibleTo(GrantSet.None, Now));
    }

    [Fact]
    public void AnUpstreamName_ResolvesToTheOneGrantedToolOfThatName_AndSeveralAreNamedInstead()
    {
        var catalog = NamespacedCatalog<string>.Build([Server("apps-a", "apps-a__", "show_widget", "list"), Server("apps-b", "apps-b__", "show_widget"), Server("secret", "secret__", "hidden")]);
        GrantSet Grants(params string[] grants) => GrantSet.Parse(grants, new List<string>());

        // One granted server has it: that tool.
        Assert.Equal("apps-a__show_widget", catalog.ResolveUpstreamName("show_widget", Grants("apps-a/*"), Now, out var none)?.ExposedName);
        Assert.Empty(none);

        // Two granted servers have it: neither, and both exposed names to choose from.
        Assert.Null(catalog.ResolveUpstreamName("show_widget", Grants("apps-a/*", "apps-b/*"), Now, out var both));
        Assert.Equal(["apps-a__show_widget", "apps-b__show_widget"], both);

        // A tool the agent may not call is not found this way, nor named.
        Assert.Null(catalog.ResolveUpstreamName("hidden", Grants("apps-a/*"), Now, out var hidden));
        Assert.Empty(hidden);
        Assert.Null(catalog.ResolveUpstreamName("nothing", Grants("*/*"), Now, out _));
    }
}
