using System.Buffers.Text;
using System.Globalization;
using System.Text;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Mcp;

/// <summary>
/// Pages the gateway's own lists: an aggregate of many upstreams can be large. The cursor is opaque to clients
/// (base64 of an offset); a cursor the gateway did not issue is an invalid-params error.
/// </summary>
internal static class ListPage
{
    public static (List<T> Items, string? NextCursor) Slice<T>(IEnumerable<T> all, string? cursor, int pageSize)
    {
        var offset = Parse(cursor);
        var page = all.Skip(offset).Take(pageSize + 1).ToList();
        if (page.Count <= pageSize)
        {
            return (page, null);
        }

        page.RemoveAt(page.Count - 1);
        return (page, Format(offset + pageSize));
    }

    private static int Parse(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            return 0;
        }

        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            if (text.StartsWith("o:", StringComparison.Ordinal)
                && int.TryParse(text.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
            {
                return offset;
            }
        }
        catch (FormatException)
        {
            // Falls through to the error below.
        }

        throw new McpProtocolException("Invalid cursor.", McpErrorCode.InvalidParams);
    }

    private static string Format(int offset) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes("o:" + offset.ToString(CultureInfo.InvariantCulture)));
}
