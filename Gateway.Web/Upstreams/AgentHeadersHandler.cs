namespace Gateway.Web.Upstreams;

/// <summary>
/// Puts the agent headers taken for a call (<see cref="AgentHeaders"/>) on the HTTP requests of a server that forwards
/// some. A header the gateway already set (the server's fixed headers, its credential, the protocol's) is not replaced:
/// what the gateway sends on its own account wins over what an agent sent.
/// </summary>
internal sealed class AgentHeadersHandler(string server) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (AgentHeaders.For(server) is { } taken)
        {
            foreach (var (name, value) in taken.Headers)
            {
                // Kestrel refused CR, LF and NUL in the agent's request; the names are tokens the validator checked.
                if (!request.Headers.Contains(name))
                {
                    request.Headers.TryAddWithoutValidation(name, value);
                }
            }
        }

        return base.SendAsync(request, cancellationToken);
    }
}
