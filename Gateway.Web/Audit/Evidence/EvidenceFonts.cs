using PdfSharp.Fonts;

namespace Gateway.Web.Audit.Evidence;

/// <summary>
/// The fonts of the PDF report: DejaVu Sans (regular, bold) and DejaVu Sans Mono, read from the operating system's
/// font folders. PDFsharp 6 finds no font by itself on Linux and ships none meant for production use; DejaVu is
/// free to embed, covers most scripts an agent or a user may be named in, and is one package on every distribution
/// (Debian: <c>fonts-dejavu-core</c>). The subset a report uses is embedded in it, so the PDF reads the same anywhere.
/// </summary>
internal sealed class EvidenceFonts : IFontResolver
{
    public const string Sans = "DejaVu Sans";
    public const string Mono = "DejaVu Sans Mono";

    /// <summary>Where the distributions put DejaVu: Debian and Ubuntu, Fedora (sans and mono apart), Arch, Alpine.</summary>
    public static readonly IReadOnlyList<string> SystemFolders =
    [
        "/usr/share/fonts/truetype/dejavu",
        "/usr/share/fonts/dejavu-sans-fonts",
        "/usr/share/fonts/dejavu-sans-mono-fonts",
        "/usr/share/fonts/TTF",
        "/usr/share/fonts/dejavu",
    ];

    private const string Regular = "DejaVuSans.ttf";
    private const string Bold = "DejaVuSans-Bold.ttf";
    private const string Monospace = "DejaVuSansMono.ttf";
    private static readonly Lazy<(EvidenceFonts? Fonts, string? Problem)> Installed = new(Install);
    private readonly Dictionary<string, string> _files;

    private EvidenceFonts(Dictionary<string, string> files) => _files = files;

    /// <summary>
    /// Gets why the report's fonts are not available, or <see langword="null"/> when they are (the first call makes
    /// them PDFsharp's font resolver for the process).
    /// </summary>
    public static string? Problem => Installed.Value.Problem;

    /// <summary>Looks for the three faces in <paramref name="folders"/>; returns them, or a message naming what is missing.</summary>
    public static (EvidenceFonts? Fonts, string? Problem) Find(IEnumerable<string> folders)
    {
        var searched = folders.ToList();
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var face in new[] { Regular, Bold, Monospace })
        {
            if (searched.Select(folder => Path.Combine(folder, face)).FirstOrDefault(File.Exists) is { } path)
            {
                files[Path.GetFileNameWithoutExtension(face)] = path;
            }
        }

        var missing = new[] { Regular, Bold, Monospace }.Where(f => !files.ContainsKey(Path.GetFileNameWithoutExtension(f))).ToList();
        return missing.Count == 0
            ? (new EvidenceFonts(files), null)
            : (null, $"the PDF report needs the DejaVu fonts ({string.Join(", ", missing)} not found in {string.Join(", ", searched)}); on Debian or Ubuntu: apt-get install fonts-dejavu-core. The HTML report is complete without them.");
    }

    public FontResolverInfo? ResolveTypeface(string familyName, bool bold, bool italic) => familyName switch
    {
        // No italic face is used; PDFsharp slants if one is asked for.
        Sans => new FontResolverInfo(bold ? "DejaVuSans-Bold" : "DejaVuSans", false, italic),
        Mono => new FontResolverInfo("DejaVuSansMono", bold, italic),
        _ => null,
    };

    public byte[]? GetFont(string faceName) => _files.TryGetValue(faceName, out var path) ? File.ReadAllBytes(path) : null;

    // PDFsharp's resolver is one per process and cannot change once a font was used: set it once, at first need.
    private static (EvidenceFonts?, string?) Install()
    {
        var (fonts, problem) = Find(SystemFolders);
        if (fonts is not null)
        {
            GlobalFontSettings.FontResolver = fonts;
        }

        return (fonts, problem);
    }
}
