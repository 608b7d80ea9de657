using System.Buffers;
using System.Text;

namespace Gateway.Core.Guardrails;

/// <summary>
/// Characters a model reads and a person does not see: Unicode tag characters (U+E0000–U+E007F, which spell ASCII
/// invisibly) and the variation selectors supplement (U+E0100–U+E01EF), bidi embeddings, overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069, which make text display in another order than it is read), and zero-width format
/// characters (U+200B, U+2060–U+2064, U+FEFF, U+180E).
/// </summary>
/// <remarks>
/// Left alone on purpose: ZWJ and ZWNJ (U+200C, U+200D; emoji sequences and Persian or Indic text need them), LRM/RLM
/// (U+200E, U+200F; ordinary right-to-left text uses them) and the variation selectors U+FE00–U+FE0F (emoji).
/// </remarks>
public static class HiddenCharacters
{
    // U+DB40 is the high surrogate of U+E0000–U+E03FF; the low surrogate says whether it is a tag or selector.
    private static readonly SearchValues<char> Candidates = SearchValues.Create(
        "\u200B\u2060\u2061\u2062\u2063\u2064\uFEFF\u180E\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\uDB40");

    /// <summary>Whether the text may hold hidden characters (one vectorized search; false for nearly all text).</summary>
    public static bool MayContain(string text) => text.AsSpan().ContainsAny(Candidates);

    /// <summary>The kind of the hidden character at <paramref name="index"/> and its width in chars, or <see langword="null"/>.</summary>
    public static string? KindAt(string text, int index, out int width)
    {
        width = 1;
        var c = text[index];
        switch (c)
        {
            case >= '\u202A' and <= '\u202E':
            case >= '\u2066' and <= '\u2069':
                return FindingKinds.UnicodeBidi;
            case '\u200B' or '\uFEFF' or '\u180E':
            case >= '\u2060' and <= '\u2064':
                return FindingKinds.UnicodeInvisible;
            case '\uDB40' when index + 1 < text.Length && text[index + 1] is (>= '\uDC00' and <= '\uDC7F') or (>= '\uDD00' and <= '\uDDEF'):
                width = 2;
                return FindingKinds.UnicodeTag;
            default:
                return null;
        }
    }

    /// <summary>
    /// Finds the hidden characters of a text: calls <paramref name="found"/> once per kind with the first offset, and
    /// returns the text without them (or the text itself when there were none).
    /// </summary>
    public static string Scan(string text, Action<string, int>? found)
    {
        var first = text.AsSpan().IndexOfAny(Candidates);
        if (first < 0)
        {
            return text;
        }

        StringBuilder? kept = null;
        var seen = 0;
        var copied = 0;
        for (var i = first; i < text.Length;)
        {
            var next = text.AsSpan(i).IndexOfAny(Candidates);
            if (next < 0)
            {
                break;
            }

            i += next;
            var kind = KindAt(text, i, out var width);
            if (kind is null)
            {
                i++;
                continue;
            }

            var bit = kind == FindingKinds.UnicodeBidi ? 1 : kind == FindingKinds.UnicodeInvisible ? 2 : 4;
            if ((seen & bit) == 0)
            {
                seen |= bit;
                found?.Invoke(kind, i);
            }

            kept ??= new StringBuilder(text.Length);
            kept.Append(text, copied, i - copied);
            i += width;
            copied = i;
        }

        if (kept is null)
        {
            return text;
        }

        kept.Append(text, copied, text.Length - copied);
        return kept.ToString();
    }
}
