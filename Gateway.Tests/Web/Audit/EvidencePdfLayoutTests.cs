using Gateway.Tests.Support;
using Gateway.Web.Audit.Evidence;

namespace Gateway.Tests.Web.Audit;

/// <summary>The PDF report's layout: what is drawn reads back as text, tables run over pages, and a cell is bounded.</summary>
public sealed class EvidencePdfLayoutTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gw-pdf-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void ALongTable_RunsOverPages_WithItsHeaderRepeated_AndPagesNumbered()
    {
        Assert.Null(EvidenceFonts.Problem);
        var path = Path.Combine(_folder, "table.pdf");
        using (var layout = new PdfLayout("Title", "footer text"))
        {
            layout.Heading1("Evidence pack: née ✓ Ωmega");
            layout.Paragraph(string.Join(' ', Enumerable.Repeat("wrapped", 400)));
            layout.Table(["Number", "Word"], [0.3, 0.7], Enumerable.Range(1, 300).Select(i => (IReadOnlyList<string>)[$"row-{i}", "cell"]));
            using var file = File.Create(path);
            layout.Save(file);
        }

        var (pages, text) = PdfText.Read(path);
        Assert.True(pages > 3, $"{pages} pages");
        Assert.Contains("Evidence pack: née ✓ Ωmega", text, StringComparison.Ordinal);
        Assert.Contains("row-1\n", text, StringComparison.Ordinal);
        Assert.Contains("row-300\n", text, StringComparison.Ordinal);
        Assert.Equal(pages, text.Split('\n').Count(l => l == "Number"));
        Assert.Contains($"Page {pages} of {pages}\n", text, StringComparison.Ordinal);
        Assert.Equal(pages, text.Split('\n').Count(l => l == "footer text"));
    }

    [Fact]
    public void ACell_IsCutAtItsLineLimit_SoAHugeValueFitsOnAPage()
    {
        var path = Path.Combine(_folder, "huge.pdf");
        var hash = string.Concat(Enumerable.Repeat("0123456789abcdef", 10_000));
        using (var layout = new PdfLayout("Title", "footer"))
        {
            layout.Table(["Key", "Value"], [0.5, 0.5], [["huge", hash], ["after", string.Join('\n', Enumerable.Repeat("line", 500))]]);
            using var file = File.Create(path);
            layout.Save(file);
        }

        var (pages, text) = PdfText.Read(path);
        Assert.True(pages <= 2, $"{pages} pages: each row fits on one");
        var lines = text.Split('\n');
        Assert.Equal(PdfLayout.MaxCellLines, lines.Count(l => l.StartsWith("0123", StringComparison.Ordinal) || l.StartsWith("89ab", StringComparison.Ordinal) || l.Length > 20 && hash.Contains(l.TrimEnd('…'), StringComparison.Ordinal)));
        Assert.Equal(PdfLayout.MaxCellLines - 1, lines.Count(l => l == "line"));
        Assert.Contains("lin…", lines);
        Assert.True(new FileInfo(path).Length < 200_000, $"{new FileInfo(path).Length} bytes");
    }

    [Fact]
    public void WithoutTheFonts_TheProblemSaysWhichAreMissing_AndHowToInstallThem()
    {
        var (fonts, problem) = EvidenceFonts.Find([_folder]);
        Assert.Null(fonts);
        Assert.Contains("DejaVuSans.ttf, DejaVuSans-Bold.ttf, DejaVuSansMono.ttf not found in " + _folder, problem, StringComparison.Ordinal);
        Assert.Contains("apt-get install fonts-dejavu-core", problem, StringComparison.Ordinal);

        File.Copy(Path.Combine(EvidenceFonts.SystemFolders[0], "DejaVuSans.ttf"), Path.Combine(_folder, "DejaVuSans.ttf"));
        Assert.Contains("(DejaVuSans-Bold.ttf, DejaVuSansMono.ttf not found", EvidenceFonts.Find([_folder]).Problem, StringComparison.Ordinal);
        Assert.NotNull(EvidenceFonts.Find([_folder, .. EvidenceFonts.SystemFolders]).Fonts);
    }
}
