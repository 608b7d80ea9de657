namespace Gateway.Web.Protocol;

/// <summary>A JSON reader's message as the gateway passes it on: it says which type and where, never the whole input.</summary>
internal static class ParserMessages
{
    /// <summary><paramref name="message"/> without its position (what follows " |": line and byte), cut to <paramref name="max"/> characters.</summary>
    public static string Bounded(string message, int max)
    {
        var cut = message.IndexOf(" |", StringComparison.Ordinal) is > 0 and var bar ? message[..bar] : message;
        return cut.Length <= max ? cut : cut[..max] + "…";
    }
}
