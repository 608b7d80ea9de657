namespace Gateway.Web.Authentication;

/// <summary>Scheme and policy names.</summary>
internal static class GatewayAuthenticationDefaults
{
    /// <summary>Agents on <c>/mcp</c>: <c>Authorization: Bearer &lt;agent key&gt;</c>.</summary>
    public const string AgentScheme = "AgentKey";

    /// <summary>The admin API: <c>Authorization: Bearer &lt;Gateway:Admin:ApiKey&gt;</c>.</summary>
    public const string AdminScheme = "AdminKey";

    /// <summary>Policy of the MCP endpoint.</summary>
    public const string AgentPolicy = "Agent";

    /// <summary>Policy of the admin API.</summary>
    public const string AdminPolicy = "Admin";
}
