namespace Gateway.Core.Policy;

/// <summary>What a tool can do, as the gateway classifies it. Ordered: a grant up to a class covers the classes below it.</summary>
public enum AccessClass
{
    /// <summary>Reads only.</summary>
    Read = 0,

    /// <summary>Changes something.</summary>
    Write = 1,

    /// <summary>Changes something irreversibly (deletes, pays, sends).</summary>
    Destructive = 2,
}

/// <summary>Derives a tool's default class from its annotations.</summary>
public static class ToolClassifier
{
    /// <summary>
    /// The default class from the upstream's hints, which are untrusted: <c>readOnlyHint</c> makes a tool
    /// <see cref="AccessClass.Read"/>, an explicit <c>destructiveHint</c> makes it <see cref="AccessClass.Destructive"/>,
    /// and anything else (no hints at all included) is <see cref="AccessClass.Write"/> until an admin says otherwise.
    /// </summary>
    public static AccessClass FromHints(bool? readOnlyHint, bool? destructiveHint) =>
        readOnlyHint == true ? AccessClass.Read
        : destructiveHint == true ? AccessClass.Destructive
        : AccessClass.Write;

    /// <summary>Parses <c>read</c>, <c>write</c> or <c>destructive</c> (case-insensitive).</summary>
    public static bool TryParse(string? text, out AccessClass accessClass)
    {
        accessClass = AccessClass.Write;
        switch (text?.Trim().ToLowerInvariant())
        {
            case "read":
                accessClass = AccessClass.Read;
                return true;
            case "write":
                accessClass = AccessClass.Write;
                return true;
            case "destructive":
                accessClass = AccessClass.Destructive;
                return true;
            default:
                return false;
        }
    }

    /// <summary>The lower-case name.</summary>
    public static string Name(this AccessClass accessClass) => accessClass switch
    {
        AccessClass.Read => "read",
        AccessClass.Write => "write",
        _ => "destructive",
    };
}
