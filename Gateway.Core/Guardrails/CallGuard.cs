namespace Gateway.Core.Guardrails;

/// <summary>Hands out the guard of a server by name (the host knows which definition is live).</summary>
public interface IServerGuards
{
    /// <summary>The guard of the named server; <see cref="ResultGuard.Default"/> settings when it is unknown.</summary>
    ServerResultGuard For(string server);
}

/// <summary>
/// Walks a protocol result's text (the host knows the protocol's types) through <see cref="ServerResultGuard.Inspect"/>,
/// writing back what it returns. Core decides; the host only adapts.
/// </summary>
/// <typeparam name="TResult">The protocol result type.</typeparam>
public interface IResultInspector<TResult>
{
    /// <summary>Inspects (and rewrites in place) every text of the result.</summary>
    void Inspect(TResult result, ServerResultGuard guard, ResultScan scan);

    /// <summary>
    /// Inspects (and rewrites in place) the questions of an upstream's input-required answer (the payload of
    /// <see cref="Pipeline.UpstreamInputRequiredException"/>): what it asks the agent or its model is text from the upstream too.
    /// </summary>
    void InspectQuestions(object inputRequired, ServerResultGuard guard, ResultScan scan);
}

/// <summary>The guard-result step of a call: the servers' guards, the result adapter and the calling session's facts.</summary>
/// <typeparam name="TResult">The protocol result type.</typeparam>
public sealed record CallGuard<TResult>(IServerGuards Servers, IResultInspector<TResult> Inspector, SessionFacts Session);
