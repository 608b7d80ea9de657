using Gateway.Web.Authentication;
using System.Text.Json;
using Gateway.Core.Agents;
using Gateway.Core.Policy;
using Gateway.Web.Agents;
using Gateway.Web.Admin.Policies;
using Gateway.Web.Admin.Tools;
using Gateway.Web.Policy;
using Gateway.Web.Upstreams;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Web.Api;

/// <summary><c>/api/v1/policies</c>: rules, the explain tester, and tool classifications. Changes apply at the next call.</summary>
internal static class PolicyEndpoints
{
    public static void MapPolicyEndpoints(this RouteGroupBuilder api)
    {
        var policies = api.MapGroup("/policies").WithTags("Policies").RequireAuthorization(GatewayAuthenticationDefaults.ReadPolicy);
        policies.MapGet("/", ListAsync).WithSummary("Lists the policy rules.");
        policies.MapPut("/{name}", PutAsync).WithSummary("Creates or replaces a rule; an invalid rule is refused with every error listed.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
        policies.MapDelete("/{name}", DeleteAsync).WithSummary("Deletes a rule.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
        policies.MapPost("/explain", ExplainAsync).WithSummary("What would happen if an agent called a tool with these arguments; nothing is called.");
        api.MapPost("/servers/{server}/tools/{tool}/pin", PinAsync).WithTags("Servers").WithSummary("Accepts a tool's current definition (after it changed, or when new tools need approval); it is offered to agents again.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
        api.MapPost("/servers/{server}/tools/{tool}/reject", RejectAsync).WithTags("Servers").WithSummary("Rejects a quarantined tool's current definition: it stays hidden from agents, and the decision is shown and audited.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
        api.MapPut("/servers/{server}/tools/{tool}/class", SetClassAsync).WithTags("Servers").WithSummary("Sets (or with null clears) the access class of one tool.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
    }

    private static async Task<Results<Ok<List<PolicyRuleDocument>>, AdminRefusal>> ListAsync(PolicyOperations policies, CancellationToken ct) =>
        (await policies.ListAsync(ct)).ToHttp(all => TypedResults.Ok(all.Select(PolicyRuleDocument.From).ToList()));

    private static async Task<Results<Ok<PolicyRuleDocument>, AdminRefusal>> PutAsync(string name, PolicyRuleDocument document, PolicyOperations policies, CancellationToken ct) =>
        (await policies.SaveAsync(document with { Name = name }, ct)).ToHttp(rule => TypedResults.Ok(PolicyRuleDocument.From(rule)));

    private static async Task<Results<NoContent, AdminRefusal>> DeleteAsync(string name, PolicyOperations policies, CancellationToken ct) =>
        (await policies.DeleteAsync(name, ct)).ToHttp();

    private static async Task<Results<Ok<ExplainResponse>, ValidationProblem>> ExplainAsync(ExplainRequest request, PolicyExplainer explainer, CancellationToken ct)
    {
        var (answer, errors) = await explainer.ExplainAsync(request, ct);
        return answer is null ? TypedResults.ValidationProblem(errors, title: "Cannot explain.") : TypedResults.Ok(answer);
    }

    private static async Task<Results<NoContent, AdminRefusal>> PinAsync(string server, string tool, ToolPinOperations pins, CancellationToken ct) =>
        (await pins.ApproveAsync(server, tool, ct)).ToHttp();

    private static async Task<Results<NoContent, AdminRefusal>> RejectAsync(string server, string tool, ToolPinOperations pins, CancellationToken ct) =>
        (await pins.RejectAsync(server, tool, ct)).ToHttp();

    private static async Task<Results<NoContent, AdminRefusal>> SetClassAsync(string server, string tool, ClassRequest request, ToolClassOperations classes, CancellationToken ct) =>
        (await classes.SetClassAsync(server, tool, request.Class, ct)).ToHttp();
}

/// <summary>An explain question: which agent, which tool (exposed name), which arguments.</summary>
public sealed record ExplainRequest(string? Agent, string? Tool, JsonElement? Arguments);

/// <summary>
/// The answer: the decision and its reason, the grant check, the tool's class, every matching rule; and the secrets
/// mode the result would be guarded by (<paramref name="SecretsRule"/> names the rule that set it, or is null for the server's).
/// </summary>
public sealed record ExplainResponse(string Effect, string? Rule, string Reason, bool Granted, string Server, string Tool, string Class, IReadOnlyList<string> MatchingRules, string Secrets = "redact", string? SecretsRule = null);

/// <summary>A class for one tool; <see langword="null"/> returns to the upstream's hints.</summary>
public sealed record ClassRequest(string? Class);
