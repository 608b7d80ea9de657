using System.Globalization;
using System.Text;

namespace Gateway.Core.Text;

/// <summary>
/// Characters a reader cannot see but a model reads: Unicode tags (U+E0000–E007F, used to smuggle ASCII text),
/// zero-width and word-joiner characters, bidirectional overrides and isolates (which reorder what a human sees),
/// variation selectors (which can carry bytes), and control characters. Shared by every scanner of upstream text.
/// </summary>
public static class InvisibleCharacters
{
    /// <summary>What kind of invisible character a code point is, or <see langword="null"/> when it is visible (or ordinary whitespace).</summary>
    public static string? Classify(int codePoint) => codePoint switch
    {
        >= 0xE0000 and <= 0xE007F => "tag character",
        0x200B or 0x200C or 0x200D or 0x2060 or 0xFEFF or 0x180E => "zero-width character",
        >= 0x2061 and <= 0x2064 => "invisible operator",
        0x202A or 0x202B or 0x202C or 0x202D or 0x202E => "bidi override",
        0x2066 or 0x2067 or 0x2068 or 0x2069 or 0x200E or 0x200F or 0x061C => "bidi control",
        // U+FE0E/U+FE0F pick text or emoji presentation ("❤️"): everyday text, and one bit carries no payload.
        >= 0xFE00 and <= 0xFE0D => "variation selector",
        >= 0xE0100 and <= 0xE01EF => "variation selector",
        0x00AD => "soft hyphen",
        0x115F or 0x1160 or 0x3164 or 0xFFA0 => "hangul filler",
        0x034F => "combining grapheme joiner",
        '\t' or '\n' or '\r' => null,
        < 0x20 or (>= 0x7F and <= 0x9F) => "control character",
        _ => codePoint <= 0x10FFFF && Rune.IsValid(codePoint) && Rune.GetUnicodeCategory(new Rune(codePoint)) == UnicodeCategory.Format ? "format character" : null,
    };

    /// <summary>
    /// Whether the zero-width joiner at <paramref name="index"/> joins two emoji ("👨‍👩‍👧"), where it is an ordinary
    /// part of the text rather than something hidden.
    /// </summary>
    public static bool IsEmojiJoiner(string text, int index)
    {
        if (index <= 0 || index + 1 >= text.Length || text[index] != '\u200D')
        {
            return false;
        }

        var before = char.IsLowSurrogate(text[index - 1]) && index >= 2 ? Rune.DecodeLastFromUtf16(text.AsSpan(0, index), out var b, out _) : Rune.DecodeLastFromUtf16(text.AsSpan(index - 1, 1), out b, out _);
        var after = Rune.DecodeFromUtf16(text.AsSpan(index + 1), out var a, out _);
        return before == System.Buffers.OperationStatus.Done && after == System.Buffers.OperationStatus.Done && IsEmojiPart(b) && IsEmojiPart(a);
    }

    // Emoji, and the presentation selector or skin-tone modifier that may end one before a joiner.
    private static bool IsEmojiPart(Rune rune) =>
        rune.Value is 0xFE0F or (>= 0x1F3FB and <= 0x1F3FF) || Rune.GetUnicodeCategory(rune) is UnicodeCategory.OtherSymbol;

    /// <summary>The <c>U+XXXX</c> name of a code point.</summary>
    public static string Name(int codePoint) => "U+" + codePoint.ToString(codePoint > 0xFFFF ? "X5" : "X4", CultureInfo.InvariantCulture);

    /// <summary>Whether <paramref name="text"/> holds any invisible character.</summary>
    public static bool Any(string text)
    {
        foreach (var rune in text.EnumerateRunes())
        {
            if (Classify(rune.Value) is not null)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The text with every invisible character replaced by <c>⟨U+XXXX⟩</c>, so a human sees what a model reads.</summary>
    public static string MakeVisible(string text)
    {
        if (!Any(text))
        {
            return text;
        }

        var visible = new StringBuilder(text.Length + 16);
        foreach (var rune in text.EnumerateRunes())
        {
            if (Classify(rune.Value) is null)
            {
                visible.Append(rune.ToString());
            }
            else
            {
                visible.Append('⟨').Append(Name(rune.Value)).Append('⟩');
            }
        }

        return visible.ToString();
    }
}
