using Gateway.Core.Audit.Admin;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace Gateway.Web.Audit;

/// <summary>Names the signed-in console user as the actor of every admin change made while handling their circuit's events.</summary>
internal sealed class AuditActorCircuitHandler(AuthenticationStateProvider authentication) : CircuitHandler
{
    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) =>
        async context =>
        {
            var user = (await authentication.GetAuthenticationStateAsync()).User.Identity?.Name;
            using (AuditActor.Use(AuditActor.Console(user)))
            {
                await next(context);
            }
        };
}
