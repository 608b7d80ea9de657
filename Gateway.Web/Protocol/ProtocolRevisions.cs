namespace Gateway.Web.Protocol;

/// <summary>
/// The protocol revisions the gateway serves and the one line between the two eras: from 2026-07-28 on, requests carry
/// the client in their own <c>_meta</c> (no session, no server-to-client requests; multi round-trip results instead).
/// Revision names are dates, so they order as strings.
/// </summary>
internal static class ProtocolRevisions
{
    /// <summary>The last revision of the session era: what the gateway's upstream sessions (session bridges, parked calls) speak.</summary>
    public const string LastSession = "2025-11-25";

    /// <summary>The first per-request revision.</summary>
    public const string FirstPerRequest = "2026-07-28";

    /// <summary>The revisions SDK 2.4.0 serves, oldest first.</summary>
    public static readonly string[] Known = ["2024-11-05", "2025-03-26", "2025-06-18", LastSession, FirstPerRequest];

    /// <summary>The revisions of the per-request era (what <c>server/discover</c> lists).</summary>
    public static readonly string[] PerRequestRevisions = [.. Known.Where(IsPerRequest)];

    /// <summary>Whether <paramref name="version"/> is of the per-request era; null or empty (a session not yet negotiated) is not.</summary>
    public static bool IsPerRequest(string? version) => string.CompareOrdinal(version, FirstPerRequest) >= 0;
}
