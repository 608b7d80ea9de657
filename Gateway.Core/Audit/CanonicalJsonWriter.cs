using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Core.Audit;

/// <summary>
/// Where <see cref="CanonicalJson"/> writes: a <see cref="StringBuilder"/>, or straight into a SHA-256 as UTF-8, one
/// pooled buffer at a time.
/// </summary>
/// <remarks>
/// A hash needs no copy of the document. Built as text first, a tool result was hashed through a StringBuilder, the
/// string made of it and that string's UTF-8 bytes: about five times the result's size in transient memory on every
/// call, and large-object-heap allocations for any result over 40 KB.
/// </remarks>
internal sealed class CanonicalJsonWriter : IDisposable
{
    private const int ChunkChars = 4096;

    private readonly StringBuilder? _text;
    private readonly IncrementalHash? _hash;

    // Encoding.UTF8's encoder, so the bytes are exactly Encoding.UTF8.GetBytes of the whole text: it carries a surrogate
    // pair split between two buffers over, and replaces a lone surrogate as GetBytes does.
    private readonly Encoder? _encoder;
    private char[]? _chars = ArrayPool<char>.Shared.Rent(ChunkChars);
    private byte[]? _bytes;
    private int _length;

    private CanonicalJsonWriter(StringBuilder? text, IncrementalHash? hash)
    {
        _text = text;
        _hash = hash;
        _encoder = hash is null ? null : Encoding.UTF8.GetEncoder();
    }

    /// <summary>Appends to <paramref name="text"/> (complete once the writer is disposed).</summary>
    public static CanonicalJsonWriter To(StringBuilder text) => new(text, null);

    /// <summary>Hashes what is written; <see cref="Sha256Hex"/> gives the hash.</summary>
    public static CanonicalJsonWriter ToSha256() => new(null, IncrementalHash.CreateHash(HashAlgorithmName.SHA256));

    public void Append(char c)
    {
        var chars = _chars!;
        if (_length == chars.Length)
        {
            Drain(final: false);
        }

        chars[_length++] = c;
    }

    public void Append(ReadOnlySpan<char> text)
    {
        var chars = _chars!;
        while (!text.IsEmpty)
        {
            if (_length == chars.Length)
            {
                Drain(final: false);
            }

            var n = Math.Min(text.Length, chars.Length - _length);
            text[..n].CopyTo(chars.AsSpan(_length));
            _length += n;
            text = text[n..];
        }
    }

    /// <summary>The lower-case hex SHA-256 of the UTF-8 of everything written (a hashing writer only).</summary>
    public string Sha256Hex()
    {
        Drain(final: true);
        Span<byte> hash = stackalloc byte[32];
        _hash!.GetHashAndReset(hash);
        return Convert.ToHexStringLower(hash);
    }

    public void Dispose()
    {
        if (_chars is null)
        {
            return;
        }

        if (_text is not null)
        {
            Drain(final: true);
        }

        ArrayPool<char>.Shared.Return(_chars);
        _chars = null;
        if (_bytes is not null)
        {
            ArrayPool<byte>.Shared.Return(_bytes);
            _bytes = null;
        }

        _hash?.Dispose();
    }

    private void Drain(bool final)
    {
        if (_text is not null)
        {
            _text.Append(_chars!, 0, _length);
        }
        else
        {
            _bytes ??= ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(_chars!.Length));
            var written = _encoder!.GetBytes(_chars.AsSpan(0, _length), _bytes, flush: final);
            _hash!.AppendData(_bytes, 0, written);
        }

        _length = 0;
    }
}
