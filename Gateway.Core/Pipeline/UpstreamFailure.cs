namespace Gateway.Core.Pipeline;

/// <summary>What counts as a forwarded call's failure on the upstream's side, reported to the agent as that call's error.</summary>
public static class UpstreamFailure
{
    /// <summary>
    /// Whether <paramref name="exception"/> is the upstream's failure for one call: unavailable, too slow, a result over
    /// the limit, or an answer that is not one. Each says what happened in its message; the connection decides the rest.
    /// </summary>
    public static bool IsCallFailure(Exception exception) =>
        exception is UpstreamUnavailableException or UpstreamTimeoutException or UpstreamResultTooLargeException or UpstreamInvalidAnswerException;
}
