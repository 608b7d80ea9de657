using System.Text.RegularExpressions;

namespace Gateway.Tests.Core.Guardrails;

/// <summary>Reads the hostile-input corpus (corpus/*.txt): "expected kind TAB text" lines, escapes decoded.</summary>
internal static class Corpus
{
    public static TheoryData<string, string> Read(string file)
    {
        var data = new TheoryData<string, string>();
        foreach (var line in File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Core", "Guardrails", "corpus", file)))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            data.Add(line[..tab], Regex.Unescape(line[(tab + 1)..]));
        }

        return data;
    }
}
