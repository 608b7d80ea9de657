using Gateway.Core.Catalog;
using Gateway.Core.Guardrails;

namespace Gateway.Core.Pipeline;

/// <summary>
/// The pipeline's port to the upstreams (the protocol side of a call): which tools there are, how a call reaches the
/// one that owns it, and what the pipeline needs to know of its result. The host implements it; Core never sees the
/// protocol's types.
/// </summary>
/// <typeparam name="TTool">The protocol's tool type.</typeparam>
/// <typeparam name="TResult">The protocol's result type.</typeparam>
public interface IToolCallForwarder<TTool, TResult>
{
    /// <summary>Gets the current tool catalog.</summary>
    NamespacedCatalog<TTool> Tools { get; }

    /// <summary>Gets the last known tools of upstreams that are down: calls to them are refused as unavailable, not unknown.</summary>
    NamespacedCatalog<TTool> OfflineTools { get; }

    /// <summary>Gets the guard-result step for the calling session; null when results are not guarded.</summary>
    CallGuard<TResult>? Guard { get; }

    /// <summary>
    /// Sends the call to the upstream owning <paramref name="entry"/>, under its original name. Called only after the
    /// call's "started" entry is committed. The upstream's failures are thrown (and audited by the pipeline).
    /// </summary>
    ValueTask<TResult> ForwardAsync(CatalogEntry<TTool> entry, CancellationToken cancellationToken);

    /// <summary>
    /// Gets the credential the last forward sent in place of the server's stored one (a user's upstream token), which
    /// the result guard then treats as a known secret; <see langword="null"/> when it sent the stored one.
    /// </summary>
    string? SentCredential => null;

    /// <summary>Tells whether a result is a tool-level error.</summary>
    bool IsToolError(TResult result);

    /// <summary>The SHA-256 of the result's canonical form, for the audit; null when it has none.</summary>
    string? ResultSha256(TResult result);

    /// <summary>The SHA-256 of the tool's definition, which an approval is bound to.</summary>
    string DefinitionSha256(TTool tool);
}
