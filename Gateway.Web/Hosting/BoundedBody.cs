namespace Gateway.Web.Hosting;

/// <summary>
/// Reads a body whose length its sender decides (a chunked request, an outside server's answer) up to a bound: one byte
/// past it and the read stops, so nothing over the bound is ever held.
/// </summary>
internal static class BoundedBody
{
    /// <summary>The whole body, or <see langword="null"/> when it runs past <paramref name="maxBytes"/>.</summary>
    public static async Task<byte[]?> ReadAsync(Stream body, int maxBytes, CancellationToken cancellationToken)
    {
        var buffer = new byte[maxBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }

        return length > maxBytes ? null : buffer[..length];
    }
}
