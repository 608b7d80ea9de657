using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Core.Audit;

/// <summary>
/// Where <see cref="CanonicalJson"/> writes: straight to a <see cref="StringBuilder"/>, or into a SHA-256 as UTF-8, one
/// pooled buffer at a time. A struct passed by reference, so writing a field's text (the audit chain does it for every
/// field of every entry) allocates nothing.
/// </summary>
/// <remarks>
/// A hash needs no copy of the document. Built as text first, a tool result was hashed through a StringBuilder, the
/// string made of it and that string's UTF-8 bytes: about five times the result's size in transient memory on every
/// call, and large-object-heap allocations for any result over 40 KB.
/// </remarks>
internal ref struct CanonicalJsonWriter
{
    private const int ChunkChars = 4096;

    private readonly StringBuilder? _text;
    private readonly IncrementalHash? _hash;

    // Encoding.UTF8's encoder, so the bytes are exactly Encoding.UTF8.GetBytes of the whole text: it carries a surrogate
    // pair split between two buffers over, and replaces a lone surrogate as GetBytes does.
    private readonly Encoder? _encoder;
    private char[]? _chars;
    private byte[]? _bytes;
    private int _length;

    private CanonicalJsonWriter(StringBuilder? text, IncrementalHash? hash)
    {
        _text = text;
        _hash = hash;
        if (hash is not null)
        {
            _encoder = Encoding.UTF8.GetEncoder();
            _chars = ArrayPool<char>.Shared.Rent(ChunkChars);
        }
    }

    /// <summary>Appends to <paramref name="text"/> as it is written (nothing to dispose).</summary>
    public static CanonicalJsonWriter To(StringBuilder text) => new(text, null);

    /// <summary>Hashes what is written; <see cref="Sha256Hex"/> gives the hash, and <see cref="Dispose"/> gives the buffers back.</summary>
    public static CanonicalJsonWriter ToSha256() => new(null, IncrementalHash.CreateHash(HashAlgorithmName.SHA256));

    public void Append(char c)
    {
        if (_text is not null)
        {
            _text.Append(c);
            return;
        }

        if (_length == _chars!.Length)
        {
            Drain(final: false);
        }

        _chars[_length++] = c;
    }

    public void Append(scoped ReadOnlySpan<char> text)
    {
        if (_text is not null)
        {
            _text.Append(text);
            return;
        }

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
        if (_chars is not null)
        {
            ArrayPool<char>.Shared.Return(_chars);
            _chars = null;
        }

        if (_bytes is not null)
        {
            ArrayPool<byte>.Shared.Return(_bytes);
            _bytes = null;
        }

        _hash?.Dispose();
    }

    private void Drain(bool final)
    {
        _bytes ??= ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(_chars!.Length));
        var written = _encoder!.GetBytes(_chars.AsSpan(0, _length), _bytes, flush: final);
        _hash!.AppendData(_bytes, 0, written);
        _length = 0;
    }
}
