namespace Gateway.Core.Guardrails;

/// <summary>
/// Where the <see cref="SessionFacts"/> of a session shared between instances are kept, so that a policy condition on
/// them (<c>@session.labels</c>, <c>@session.findings</c>) sees what the session received on every instance.
/// </summary>
public interface ISessionFactsStore
{
    /// <summary>The facts recorded for the session by any instance; <see langword="null"/> when it is not stored (any more).</summary>
    /// <exception cref="SessionFactsUnavailableException">The store cannot be read, or what it holds cannot be.</exception>
    Task<StoredSessionFacts?> ReadFactsAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>
    /// Adds facts to the session's (a union: what another instance added at the same time is kept; a fact that does not
    /// fit marks them overflowed); false when they could not be stored.
    /// </summary>
    Task<bool> AddFactsAsync(string sessionId, StoredSessionFacts facts, CancellationToken cancellationToken);
}

/// <summary>A session's facts as stored for every instance.</summary>
/// <param name="Labels">The labels of the servers whose results the session received.</param>
/// <param name="Findings">The kinds of the findings of its calls.</param>
/// <param name="Overflowed">Whether a fact was left out (more than <see cref="SessionFacts.MaxEntries"/>, or longer than the store keeps): conditions are then undecided.</param>
public sealed record StoredSessionFacts(IReadOnlyList<string> Labels, IReadOnlyList<string> Findings, bool Overflowed = false);

/// <summary>The shared facts of a session cannot be read (the database failed): conditions on them are undecided.</summary>
public sealed class SessionFactsUnavailableException(string message, Exception inner) : Exception(message, inner);
