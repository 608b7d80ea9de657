using Bunit;
using Gateway.Core.Agents;
using Gateway.Tests.Web.Components;
using Gateway.Web.Agents;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Web.Admin.Agents;

/// <summary>The Agents page's services over a real SQLite file, with the admin operations, for a user of the given role.</summary>
public abstract class AgentConsoleTest : ConsolePageTest
{
    protected AgentConsoleTest(string user = "admin", string role = "Admin")
        : base(user, role)
    {
        // The grants editor's picker reads the upstream pool's catalog.
        AddUpstreams();
        Services.AddSingleton(sp => new AgentDirectoryProvider(sp.GetRequiredService<IAgentStore>(), sp.GetRequiredService<Gateway.Data.Stores.IDatabaseChanges>(), NullLogger<AgentDirectoryProvider>.Instance));
        Services.AddGatewayAdminOperations();
        Services.AddGatewayLimits(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await SignedInUserIsAConsoleUserAsync();
    }

    /// <summary>
    /// Clicks <paramref name="button"/> until <paramref name="shown"/> is rendered, within a deadline. The table loads its
    /// rows on its own schedule: on a loaded machine a reload can re-render the row between finding its button and
    /// clicking it, and that click reaches a handler that is gone (seen once in CI: the owner editor never opened).
    /// </summary>
    protected static void ClickUntilShown(Bunit.IRenderedComponent<Gateway.Web.Components.Pages.Agents> cut, string button, string shown)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            cut.Find(button).Click();
            try
            {
                cut.WaitForElement(shown, TimeSpan.FromSeconds(1));
                return;
            }
            catch (Bunit.Extensions.WaitForHelpers.WaitForFailedException) when (DateTime.UtcNow < deadline)
            {
            }
        }
    }

    /// <summary>The text shown under a form field (its helper line, which holds the field's errors).</summary>
    protected static string HelperOf(Bunit.IRenderedComponent<Gateway.Web.Components.Pages.Agents> cut, string id) =>
        cut.Find("#" + id).Closest(".mud-input-control")!.QuerySelector(".mud-input-helper-text")?.TextContent.Trim() ?? string.Empty;
}
