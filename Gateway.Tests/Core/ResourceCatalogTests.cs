using Gateway.Core.Catalog;
using Gateway.Core.Grants;

using Gateway.Core.Policy;

namespace Gateway.Tests.Core;

public sealed class ResourceCatalogTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static ResourceCatalog<string, string> Build(params (string Server, string[] Uris, string[] Templates)[] servers) =>
        ResourceCatalog<string, string>.Build(servers.Select(s => (
            s.Server,
            (IReadOnlyList<(string, string)>)[.. s.Uris.Select(u => (u, u))],
            (IReadOnlyList<(string, string)>)[.. s.Templates.Select(t => (t, t))])));

    [Fact]
    public void UniqueUris_AreExposedUnchanged_AndRouteToTheirServer()
    {
        var catalog = Build(("a", ["test://static"], ["test://items/{id}"]), ("b", ["file:///x"], []));

        Assert.Equal(["test://static", "file:///x"], catalog.Resources.Select(r => r.ExposedName));
        Assert.Equal(("a", "test://static"), catalog.Route("test://static"));
        Assert.Equal(("b", "file:///x"), catalog.Route("file:///x"));
        Assert.Equal(("a", "test://items/42"), catalog.Route("test://items/42"));
        Assert.Null(catalog.Route("test://items/42/more"));
        Assert.Null(catalog.Route("nope://x"));
    }

    [Fact]
    public void ClashingAppInterfaces_KeepTheUiScheme_AndRouteToTheirServer()
    {
        // MCP Apps hosts render only ui:// URIs: a rewritten interface must stay one.
        var catalog = Build(("a", ["ui://widget/main.html"], ["ui://widget/{page}"]), ("b", ["ui://widget/main.html"], ["ui://widget/{page}"]));

        Assert.Equal(["ui://widget/main.html", "ui://b+widget/main.html"], catalog.Resources.Select(r => r.ExposedName));
        Assert.Equal(["ui://widget/{page}", "ui://b+widget/{page}"], catalog.Templates.Select(r => r.ExposedName));
        Assert.Equal(("a", "ui://widget/main.html"), catalog.Route("ui://widget/main.html"));
        Assert.Equal(("b", "ui://widget/main.html"), catalog.Route("ui://b+widget/main.html"));
        Assert.Equal(("b", "ui://widget/7"), catalog.Route("ui://b+widget/7"));

        // Only a known server's name routes; a listed URI that merely looks rewritten stays its owner's.
        Assert.Null(catalog.Route("ui://nobody+widget/main.html"));
        var lookalike = Build(("a", ["ui://b+x/page"], []), ("b", [], []));
        Assert.Equal(("a", "ui://b+x/page"), lookalike.Route("ui://b+x/page"));
    }

    [Fact]
    public void AReference_IsExposedAsTheUriThatReachesItsOwnServer()
    {
        var catalog = Build(("a", ["ui://widget/main.html", "file:///shared"], []), ("b", ["ui://widget/main.html"], []), ("c", [], []));

        // Its own (or nobody's): as published. Another server's: rewritten to come back to the server that named it.
        Assert.Equal("ui://widget/main.html", catalog.ExposeReference("a", "ui://widget/main.html"));
        Assert.Equal("ui://b+widget/main.html", catalog.ExposeReference("b", "ui://widget/main.html"));
        Assert.Equal("ui://c+widget/main.html", catalog.ExposeReference("c", "ui://widget/main.html"));
        Assert.Equal("mcpgw://c/file:///shared", catalog.ExposeReference("c", "file:///shared"));
        Assert.Equal("test://unlisted", catalog.ExposeReference("c", "test://unlisted"));
        Assert.Equal(("c", "ui://widget/main.html"), catalog.Route(catalog.ExposeReference("c", "ui://widget/main.html")));
    }

    [Fact]
    public void ClashingUris_LaterServerIsRewritten_AndBothRouteUnambiguously()
    {
        var catalog = Build(("a", ["test://static"], ["test://items/{id}"]), ("b", ["test://static"], ["test://items/{id}"]));

        Assert.Equal(["test://static", "mcpgw://b/test://static"], catalog.Resources.Select(r => r.ExposedName));
        Assert.Equal(["test://items/{id}", "mcpgw://b/test://items/{id}"], catalog.Templates.Select(r => r.ExposedName));
        Assert.Equal(("a", "test://static"), catalog.Route("test://static"));
        Assert.Equal(("b", "test://static"), catalog.Route("mcpgw://b/test://static"));
        Assert.Equal(("b", "test://items/7"), catalog.Route("mcpgw://b/test://items/7"));
        Assert.Equal(("a", "test://items/7"), catalog.Route("test://items/7"));
        Assert.Null(catalog.Route("mcpgw://unknown/test://static"));
    }

    [Fact]
    public void Visibility_FollowsServerGrants()
    {
        var catalog = Build(("a", ["test://a"], []), ("b", ["test://b"], ["test://b/{x}"]));
        var grants = GrantSet.Parse(["b/*"], new List<string>());

        Assert.Equal(["test://b"], catalog.ResourcesVisibleTo(grants, Now).Select(r => r.ExposedName));
        Assert.Single(catalog.TemplatesVisibleTo(grants, Now));
        Assert.Empty(catalog.ResourcesVisibleTo(GrantSet.None, Now));
    }

    [Theory]
    [InlineData("test://items/{id}", "test://items/abc", true)]
    [InlineData("test://items/{id}", "test://items/a/b", false)]
    [InlineData("file:///{+path}", "file:///etc/hosts", true)]
    [InlineData("search://q{?term,limit}", "search://q?term=x&limit=1", true)]
    [InlineData("search://q{?term,limit}", "search://q", true)]
    public void TemplateRegex_MatchesRfc6570Expressions(string template, string uri, bool expected) =>
        Assert.Equal(expected, ResourceCatalog<string, string>.TemplateRegex(template).IsMatch(uri));
}
