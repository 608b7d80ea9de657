namespace Gateway.Core.Pipeline;

/// <summary>
/// A later round of a multi round-trip call: the agent retries with the input the upstream asked for. The call was
/// decided once (policy, approval) in its first round; later rounds carry that decision and are audited under the
/// first round's call id with a round suffix, each committed before the upstream sees it.
/// </summary>
/// <param name="CallId">The call id of the first round.</param>
/// <param name="Round">The round this is (2 for the first retry).</param>
/// <param name="Decision">The policy decision of the first round.</param>
/// <param name="Rule">The rule that decided it, if any.</param>
public sealed record CallContinuation(string CallId, int Round, string Decision, string? Rule)
{
    /// <summary>Gets the audit call id of this round: the first round's, suffixed with the round.</summary>
    public string RoundCallId => $"{CallId}.{Round}";
}
