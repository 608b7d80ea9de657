namespace Gateway.Core.Pipeline;

/// <summary>
/// An upstream answered a forwarded request with something that is not a valid answer to it (a result its reader
/// cannot take: a content block of an unknown type, a text block without its text, a list that is not one). The
/// connection is fine and the upstream is up: only this answer is refused, and the reason says what was wrong with it.
/// </summary>
public sealed class UpstreamInvalidAnswerException(string server, string reason)
    : Exception($"The answer of '{server}' is not a valid MCP answer and was not forwarded: {reason}")
{
    /// <summary>The longest reason kept: the reader's words (a type and a path), which may quote the upstream.</summary>
    public const int MaxReason = 200;

    /// <summary>Gets the upstream.</summary>
    public string Server { get; } = server;
}
