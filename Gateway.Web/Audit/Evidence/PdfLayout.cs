using System.Globalization;
using System.Text;
using PdfSharp;
using PdfSharp.Drawing;
using PdfSharp.Pdf;

namespace Gateway.Web.Audit.Evidence;

/// <summary>
/// A top-down flow of text on A4 landscape pages: headings, wrapped paragraphs, and tables whose rows wrap and move
/// to the next page with the header repeated. Pages are numbered when saved. Everything drawn is bounded: a cell
/// keeps at most <see cref="MaxCellLines"/> lines, so a row always fits on a page however long a value from the
/// trail is (the full value is in the pack's export).
/// </summary>
internal sealed class PdfLayout : IDisposable
{
    /// <summary>The most lines of one table cell or key-value row.</summary>
    public const int MaxCellLines = 30;

    // More characters than MaxCellLines lines across the whole page hold: the rest is cut before measuring anything.
    private const int MaxCellChars = MaxCellLines * 250;

    private const double Margin = 36;
    private const double Padding = 2.5;
    private const double FooterSpace = 18;
    private static readonly XColor Rule = XColor.FromArgb(0xBB, 0xBB, 0xBB);
    private static readonly XSolidBrush HeaderFill = new(XColor.FromArgb(0xEE, 0xEE, 0xEE));
    private readonly PdfDocument _document;
    private readonly string _footer;
    private readonly XPen _rule = new(Rule, 0.5);
    private XGraphics? _graphics;
    private double _y;

    /// <exception cref="InvalidOperationException">The fonts are not installed (<see cref="EvidenceFonts.Problem"/>).</exception>
    public PdfLayout(string title, string footer)
    {
        if (EvidenceFonts.Problem is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        Body = Font(EvidenceFonts.Sans, 8, XFontStyleEx.Regular);
        Strong = Font(EvidenceFonts.Sans, 8, XFontStyleEx.Bold);
        Code = Font(EvidenceFonts.Mono, 7, XFontStyleEx.Regular);
        Small = Font(EvidenceFonts.Sans, 7, XFontStyleEx.Regular);
        SmallStrong = Font(EvidenceFonts.Sans, 7, XFontStyleEx.Bold);
        Title = Font(EvidenceFonts.Sans, 15, XFontStyleEx.Bold);
        Subtitle = Font(EvidenceFonts.Sans, 11, XFontStyleEx.Bold);
        _footer = footer;
        _document = new PdfDocument();
        _document.Info.Title = title;
        _document.Info.Creator = "MCP gateway evidence pack";
        _document.Options.CompressContentStreams = true;
        NewPage();
    }

    public XFont Body { get; }

    public XFont Strong { get; }

    public XFont Code { get; }

    private XFont Small { get; }

    private XFont SmallStrong { get; }

    private XFont Title { get; }

    private XFont Subtitle { get; }

    // Every text as glyph ids with a Unicode map (not WinAnsi where it would do): one embedded subset per face, any
    // script the font has, and text that copies out of any viewer the same.
    private static XFont Font(string family, double size, XFontStyleEx style) => new(family, size, style, new XPdfFontOptions(PdfFontEncoding.Unicode));

    private double Width => _document.Pages[^1].Width.Point - (2 * Margin);

    private double Bottom => _document.Pages[^1].Height.Point - Margin - FooterSpace;

    private XGraphics Graphics => _graphics!;

    public void Heading1(string text)
    {
        Lines(text, Title, XBrushes.Black, 0);
        _y += 4;
    }

    /// <summary>A section heading, on a new page when fewer than a few lines would follow it on this one.</summary>
    public void Heading2(string text)
    {
        if (_y + 80 > Bottom)
        {
            NewPage();
        }
        else
        {
            _y += 10;
        }

        Lines(text, Subtitle, XBrushes.Black, 0);
        Graphics.DrawLine(_rule, Margin, _y, Margin + Width, _y);
        _y += 4;
    }

    public void Paragraph(string text, XFont? font = null, XBrush? brush = null)
    {
        Lines(text, font ?? Body, brush ?? XBrushes.Black, 0);
        _y += 3;
    }

    public void Note(string text) => Paragraph(text, Small, XBrushes.DimGray);

    /// <summary>Two columns, names on the left, without a header.</summary>
    public void KeyValues(IEnumerable<(string Name, string Value)> rows)
    {
        foreach (var (name, value) in rows)
        {
            DrawRow([name, value], [0.22, 0.78], [SmallStrong, Small], header: null, fill: null);
        }

        _y += 4;
    }

    /// <summary>A table: <paramref name="widths"/> are the columns' shares of the page width.</summary>
    public void Table(IReadOnlyList<string> header, IReadOnlyList<double> widths, IEnumerable<IReadOnlyList<string>> rows)
    {
        var headerFonts = header.Select(_ => SmallStrong).ToArray();
        var fonts = header.Select(_ => Small).ToArray();
        var first = true;
        foreach (var row in rows)
        {
            // The header starts a page together with the first row, never alone at the bottom of one.
            if (first && _y + Wrapped(header, widths, headerFonts).Height + Wrapped(row, widths, fonts).Height > Bottom)
            {
                NewPage();
            }

            if (first)
            {
                DrawRow(header, widths, headerFonts, header: null, fill: HeaderFill);
                first = false;
            }

            DrawRow(row, widths, fonts, header, fill: null);
        }

        _y += 4;
    }

    /// <summary>Numbers the pages and writes the document.</summary>
    public void Save(Stream stream)
    {
        _graphics?.Dispose();
        _graphics = null;
        var count = _document.PageCount;
        for (var i = 0; i < count; i++)
        {
            var page = _document.Pages[i];
            using var graphics = XGraphics.FromPdfPage(page, XGraphicsPdfPageOptions.Append);
            var y = page.Height.Point - Margin;
            graphics.DrawString(_footer, Small, XBrushes.DimGray, new XPoint(Margin, y), XStringFormats.BottomLeft);
            graphics.DrawString(string.Create(CultureInfo.InvariantCulture, $"Page {i + 1} of {count}"), Small, XBrushes.DimGray, new XPoint(page.Width.Point - Margin, y), XStringFormats.BottomRight);
        }

        _document.Save(stream, closeStream: false);
    }

    public void Dispose()
    {
        _graphics?.Dispose();
        _document.Dispose();
    }

    private void NewPage()
    {
        _graphics?.Dispose();
        var page = _document.AddPage();
        page.Size = PageSize.A4;
        page.Orientation = PageOrientation.Landscape;
        _graphics = XGraphics.FromPdfPage(page);
        _y = Margin;
    }

    private void Lines(string text, XFont font, XBrush brush, double indent)
    {
        var height = font.GetHeight();
        foreach (var line in Wrap(text, font, Width - indent, int.MaxValue))
        {
            if (_y + height > Bottom)
            {
                NewPage();
            }

            Graphics.DrawString(line, font, brush, new XPoint(Margin + indent, _y), XStringFormats.TopLeft);
            _y += height;
        }
    }

    private void DrawRow(IReadOnlyList<string> cells, IReadOnlyList<double> widths, IReadOnlyList<XFont> fonts, IReadOnlyList<string>? header, XBrush? fill)
    {
        var columns = widths.Select(w => w * Width).ToArray();
        var (wrapped, height) = Wrapped(cells, widths, fonts);
        if (_y + height > Bottom)
        {
            NewPage();
            if (header is not null)
            {
                DrawRow(header, widths, header.Select(_ => SmallStrong).ToArray(), header: null, fill: HeaderFill);
            }
        }

        var x = Margin;
        for (var i = 0; i < cells.Count; i++)
        {
            var box = new XRect(x, _y, columns[i], height);
            if (fill is not null)
            {
                Graphics.DrawRectangle(fill, box);
            }

            Graphics.DrawRectangle(_rule, box);
            var lineHeight = fonts[i].GetHeight();
            for (var l = 0; l < wrapped[i].Count; l++)
            {
                Graphics.DrawString(wrapped[i][l], fonts[i], XBrushes.Black, new XPoint(x + Padding, _y + Padding + (l * lineHeight)), XStringFormats.TopLeft);
            }

            x += columns[i];
        }

        _y += height;
    }

    // A row's cells as lines, and the row's height.
    private (List<string>[] Lines, double Height) Wrapped(IReadOnlyList<string> cells, IReadOnlyList<double> widths, IReadOnlyList<XFont> fonts)
    {
        var lines = cells.Select((cell, i) => Wrap(cell.Length > MaxCellChars ? cell[..MaxCellChars] : cell, fonts[i], (widths[i] * Width) - (2 * Padding), MaxCellLines)).ToArray();
        return (lines, (lines.Max(l => l.Count) * fonts.Max(f => f.GetHeight())) + (2 * Padding));
    }

    // Greedy word wrap; a word wider than the line (a hash, a URL) is cut where it no longer fits. Past maxLines the
    // last line ends with an ellipsis.
    private List<string> Wrap(string text, XFont font, double width, int maxLines)
    {
        var lines = new List<string>();
        foreach (var paragraph in text.ReplaceLineEndings("\n").Split('\n'))
        {
            var line = new StringBuilder();
            foreach (var word in paragraph.Split(' '))
            {
                var candidate = line.Length == 0 ? word : line + " " + word;
                if (Fits(candidate, font, width))
                {
                    line.Clear().Append(candidate);
                    continue;
                }

                if (line.Length > 0)
                {
                    lines.Add(line.ToString());
                    line.Clear();
                }

                var rest = word;
                while (!Fits(rest, font, width) && rest.Length > 1)
                {
                    var cut = FittingLength(rest, font, width);
                    lines.Add(rest[..cut]);
                    rest = rest[cut..];
                    if (lines.Count > maxLines)
                    {
                        break;
                    }
                }

                line.Append(rest);
                if (lines.Count > maxLines)
                {
                    break;
                }
            }

            lines.Add(line.ToString());
            if (lines.Count > maxLines)
            {
                break;
            }
        }

        if (lines.Count > maxLines)
        {
            lines.RemoveRange(maxLines, lines.Count - maxLines);
            lines[^1] = lines[^1].Length > 1 ? lines[^1][..^1] + "…" : "…";
        }

        return lines;
    }

    private bool Fits(string text, XFont font, double width) => Graphics.MeasureString(text, font).Width <= width;

    private int FittingLength(string word, XFont font, double width)
    {
        // The longest prefix that fits, at least one character: binary search over the prefix length.
        var (low, high) = (1, word.Length);
        while (low < high)
        {
            var mid = (low + high + 1) / 2;
            if (Fits(word[..mid], font, width))
            {
                low = mid;
            }
            else
            {
                high = mid - 1;
            }
        }

        return low;
    }
}
