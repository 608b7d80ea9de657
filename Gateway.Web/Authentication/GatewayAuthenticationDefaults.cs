namespace Gateway.Web.Authentication;

/// <summary>Scheme and policy names.</summary>
internal static class GatewayAuthenticationDefaults
{
    /// <summary>Agents on <c>/mcp</c>: <c>Authorization: Bearer &lt;agent key&gt;</c>.</summary>
    public const string AgentScheme = "AgentKey";

    /// <summary>Agents on <c>/mcp</c> with an OAuth access token (a JWT), when <c>Gateway:AgentOAuth</c> is on.</summary>
    public const string OAuthScheme = "AgentOAuth";

    /// <summary>Agents on <c>/mcp</c>: picks <see cref="OAuthScheme"/> for a JWT and <see cref="AgentScheme"/> otherwise.</summary>
    public const string AgentCredentialScheme = "AgentCredential";

    /// <summary>The admin API: <c>Authorization: Bearer &lt;Gateway:Admin:ApiKey&gt;</c>.</summary>
    public const string AdminScheme = "AdminKey";

    /// <summary>Policy of the MCP endpoint.</summary>
    public const string AgentPolicy = "Agent";

    /// <summary>Changes through the admin API: role Admin.</summary>
    public const string AdminPolicy = "Admin";

    /// <summary>Reading servers, agents and policies: Admin or Auditor.</summary>
    public const string ReadPolicy = "Read";

    /// <summary>Listing and deciding approvals: Admin or Approver.</summary>
    public const string DecidePolicy = "Decide";

    /// <summary>Any console role (the API's floor).</summary>
    public const string ConsoleUserPolicy = "ConsoleUser";
}
