using Gateway.Core.Policy;

namespace Gateway.Core.Catalog;

/// <summary>An upstream item (tool or prompt) under the name the gateway exposes, with its access class (tools).</summary>
/// <typeparam name="TItem">The protocol type of the item; opaque to the domain.</typeparam>
public sealed record CatalogEntry<TItem>(string ExposedName, string Server, string OriginalName, TItem Item, AccessClass Class = AccessClass.Write);

/// <summary>An item that was not exposed because an earlier server already exposes its final name.</summary>
public sealed record NameCollision(string ExposedName, string Server, string OriginalName, string ExposedByServer)
{
    /// <summary>Gets the reason, as shown in the API and the log.</summary>
    public string Reason => $"'{ExposedName}' from server '{Server}' collides with the same name from server '{ExposedByServer}'; it is not exposed.";
}

/// <summary>The items one server offers, in the order it listed them, with the class the gateway gives each.</summary>
public sealed record ServerItems<TItem>(string Server, string Prefix, IReadOnlyList<(string Name, TItem Item)> Items, Func<TItem, AccessClass>? Classify = null);
