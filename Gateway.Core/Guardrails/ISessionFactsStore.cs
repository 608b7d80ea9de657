namespace Gateway.Core.Guardrails;

/// <summary>
/// Where the <see cref="SessionFacts"/> of a session shared between instances are kept, so that a policy condition on
/// them (<c>@session.labels</c>, <c>@session.findings</c>) sees what the session received on every instance.
/// </summary>
public interface ISessionFactsStore
{
    /// <summary>The facts recorded for the session by any instance; <see langword="null"/> when it is not stored (any more).</summary>
    /// <exception cref="SessionFactsUnavailableException">The store cannot be read.</exception>
    Task<(IReadOnlyList<string> Labels, IReadOnlyList<string> Findings)?> ReadFactsAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Adds facts to the session's (a union: what another instance added at the same time is kept); false when they could not be stored.</summary>
    Task<bool> AddFactsAsync(string sessionId, IReadOnlyCollection<string> labels, IReadOnlyCollection<string> findings, CancellationToken cancellationToken);
}

/// <summary>The shared facts of a session cannot be read (the database failed): conditions on them are undecided.</summary>
public sealed class SessionFactsUnavailableException(string message, Exception inner) : Exception(message, inner);
