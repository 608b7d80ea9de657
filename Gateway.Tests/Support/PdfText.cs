using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using PdfSharp.Pdf;
using PdfSharp.Pdf.Content;
using PdfSharp.Pdf.Content.Objects;
using PdfSharp.Pdf.IO;

namespace Gateway.Tests.Support;

/// <summary>
/// Reads a PDF back with PDFsharp's parser and extracts its text: each shown string's glyph codes mapped through its
/// font's <c>/ToUnicode</c> map (how a PDF viewer copies text), one line per text-showing operator.
/// </summary>
public static partial class PdfText
{
    public static (int Pages, string Text) Read(string path)
    {
        using var document = PdfReader.Open(path, PdfDocumentOpenMode.Import);
        var text = new StringBuilder();
        foreach (var page in document.Pages)
        {
            var maps = new Dictionary<string, Dictionary<int, string>?>(StringComparer.Ordinal);
            var fonts = page.Resources.Elements.GetDictionary("/Font");
            foreach (var name in fonts?.Elements.Keys ?? [])
            {
                var toUnicode = fonts!.Elements.GetDictionary(name)?.Elements.GetDictionary("/ToUnicode");
                maps[name] = toUnicode?.Stream is { } stream ? ParseCMap(Encoding.ASCII.GetString(stream.UnfilteredValue)) : null;
            }

            Dictionary<int, string>? font = null;
            Walk(ContentReader.ReadContent(page), maps, ref font, text);
        }

        return (document.PageCount, text.ToString());
    }

    private static void Walk(CSequence sequence, Dictionary<string, Dictionary<int, string>?> maps, ref Dictionary<int, string>? font, StringBuilder text)
    {
        foreach (var item in sequence)
        {
            switch (item)
            {
                case COperator { OpCode.Name: "Tf" } op when op.Operands[0] is CName name:
                    font = maps.GetValueOrDefault(name.Name);
                    break;
                case COperator { OpCode.Name: "Tj" or "'" or "\"" } op:
                    Show(op.Operands, font, text);
                    text.Append('\n');
                    break;
                case COperator { OpCode.Name: "TJ" } op when op.Operands[0] is CArray array:
                    Show(array, font, text);
                    text.Append('\n');
                    break;
                case CSequence inner:
                    Walk(inner, maps, ref font, text);
                    break;
            }
        }
    }

    private static void Show(CSequence operands, Dictionary<int, string>? font, StringBuilder text)
    {
        foreach (var s in operands.OfType<CString>())
        {
            // A simple font (no Unicode map): one byte a character, read as Latin-1 (WinAnsi differs only in 0x80-0x9F).
            if (font is null)
            {
                text.Append(s.Value);
                continue;
            }

            // Two-byte codes (Identity-H): PDFsharp writes its TrueType text as glyph ids.
            for (var i = 0; i + 1 < s.Value.Length; i += 2)
            {
                var code = (s.Value[i] << 8) | s.Value[i + 1];
                text.Append(font.GetValueOrDefault(code, "\uFFFD"));
            }
        }
    }

    private static Dictionary<int, string> ParseCMap(string cmap)
    {
        var map = new Dictionary<int, string>();
        foreach (var section in Section("bfrange").Matches(cmap).Select(m => m.Groups[1].Value))
        {
            foreach (Match m in Range().Matches(section))
            {
                var (low, high, first) = (Hex(m.Groups[1].Value), Hex(m.Groups[2].Value), Utf16(m.Groups[3].Value));
                for (var code = low; code <= high; code++)
                {
                    map[code] = first[..^1] + (char)(first[^1] + code - low);
                }
            }
        }

        foreach (var section in Section("bfchar").Matches(cmap).Select(m => m.Groups[1].Value))
        {
            foreach (Match m in Char().Matches(section))
            {
                map[Hex(m.Groups[1].Value)] = Utf16(m.Groups[2].Value);
            }
        }

        return map;
    }

    private static Regex Section(string name) => new($"begin{name}(.*?)end{name}", RegexOptions.Singleline);

    // A destination is UTF-16 code units, four hex digits each (a pair for a character beyond the BMP).
    private static string Utf16(string hex) => new([.. hex.Chunk(4).Select(unit => (char)Hex(new string(unit)))]);

    private static int Hex(string value) => int.Parse(value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    // One line of a bfrange section: low code, high code, first destination.
    [GeneratedRegex(@"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")]
    private static partial Regex Range();

    // One line of a bfchar section: code, destination.
    [GeneratedRegex(@"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")]
    private static partial Regex Char();
}
