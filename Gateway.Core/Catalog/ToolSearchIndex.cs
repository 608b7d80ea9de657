using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace Gateway.Core.Catalog;

/// <summary>
/// Okapi BM25 over a catalog's tools (names, descriptions, schema property names), built once per catalog and searched
/// per query with a filter, so an agent's search ranks only the tools it may call.
/// </summary>
/// <remarks>
/// Names weigh three times and property names twice a description's words: a model searching "create issue" means
/// <c>create_issue</c> before a tool that mentions issues. Words are split at case changes, digits and punctuation, and
/// lower-cased with a plural <c>s</c> dropped, so <c>listPullRequests</c> matches "list pull request".
/// The scores' document frequencies count every tool of the catalog, granted or not; only the results are filtered.
/// </remarks>
/// <typeparam name="TItem">The protocol type of the tools.</typeparam>
public sealed class ToolSearchIndex<TItem>
{
    private const double K1 = 1.2;
    private const double B = 0.75;

    private readonly IReadOnlyList<CatalogEntry<TItem>> _entries;
    private readonly FrozenDictionary<string, (int Doc, int Frequency)[]> _postings;
    private readonly int[] _lengths;
    private readonly double _averageLength;

    private ToolSearchIndex(IReadOnlyList<CatalogEntry<TItem>> entries, FrozenDictionary<string, (int Doc, int Frequency)[]> postings, int[] lengths)
    {
        _entries = entries;
        _postings = postings;
        _lengths = lengths;
        _averageLength = lengths.Length == 0 ? 1 : Math.Max(1, lengths.Average());
    }

    /// <summary>Indexes the entries.</summary>
    /// <param name="entries">The tools.</param>
    /// <param name="describe">A tool's description and its schema's property names.</param>
    public static ToolSearchIndex<TItem> Build(IReadOnlyList<CatalogEntry<TItem>> entries, Func<TItem, (string? Description, IEnumerable<string> Properties)> describe)
    {
        var postings = new Dictionary<string, List<(int, int)>>(StringComparer.Ordinal);
        var lengths = new int[entries.Count];
        var terms = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var doc = 0; doc < entries.Count; doc++)
        {
            terms.Clear();
            var (description, properties) = describe(entries[doc].Item);
            var length = Add(terms, entries[doc].ExposedName, 3) + Add(terms, description, 1);
            foreach (var property in properties)
            {
                length += Add(terms, property, 2);
            }

            lengths[doc] = length;
            foreach (var (term, frequency) in terms)
            {
                if (!postings.TryGetValue(term, out var list))
                {
                    postings[term] = list = [];
                }

                list.Add((doc, frequency));
            }
        }

        return new ToolSearchIndex<TItem>(entries, postings.ToFrozenDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal), lengths);
    }

    /// <summary>The best <paramref name="limit"/> matches of <paramref name="query"/> among the entries <paramref name="allowed"/> admits, best first.</summary>
    public IReadOnlyList<CatalogEntry<TItem>> Search(string query, int limit, Func<CatalogEntry<TItem>, bool> allowed)
    {
        var scores = new double[_entries.Count];
        var queryTerms = new HashSet<string>(StringComparer.Ordinal);
        foreach (var term in Tokens(query))
        {
            queryTerms.Add(term);
        }

        foreach (var term in queryTerms)
        {
            if (!_postings.TryGetValue(term, out var postings))
            {
                continue;
            }

            var idf = Math.Log(1 + ((_entries.Count - postings.Length + 0.5) / (postings.Length + 0.5)));
            foreach (var (doc, frequency) in postings)
            {
                scores[doc] += idf * frequency * (K1 + 1) / (frequency + (K1 * (1 - B + (B * _lengths[doc] / _averageLength))));
            }
        }

        // A bounded selection of the best: the limit is small, the catalog may hold thousands.
        var best = new List<(double Score, int Doc)>(limit + 1);
        for (var doc = 0; doc < scores.Length; doc++)
        {
            var score = scores[doc];
            if (score <= 0 || (best.Count == limit && score <= best[^1].Score) || !allowed(_entries[doc]))
            {
                continue;
            }

            var at = best.FindIndex(b => b.Score < score);
            best.Insert(at < 0 ? best.Count : at, (score, doc));
            if (best.Count > limit)
            {
                best.RemoveAt(best.Count - 1);
            }
        }

        return [.. best.Select(b => _entries[b.Doc])];
    }

    private static int Add(Dictionary<string, int> terms, string? text, int weight)
    {
        var count = 0;
        foreach (var term in Tokens(text))
        {
            terms[term] = terms.GetValueOrDefault(term) + weight;
            count += weight;
        }

        return count;
    }

    /// <summary>The words of <paramref name="text"/>: split at punctuation, digits runs and lower-to-upper case changes; lower-cased, a plural 's' dropped.</summary>
    internal static IEnumerable<string> Tokens(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            yield break;
        }

        var word = new StringBuilder();
        for (var i = 0; i <= text.Length; i++)
        {
            var c = i < text.Length ? text[i] : ' ';
            var boundary = !char.IsLetterOrDigit(c)
                || (word.Length > 0 && char.IsUpper(c) && char.IsLower(text[i - 1]))
                || (word.Length > 0 && char.IsDigit(c) != char.IsDigit(text[i - 1]));
            if (boundary && word.Length > 0)
            {
                yield return Normalize(word.ToString());
                word.Clear();
            }

            if (char.IsLetterOrDigit(c))
            {
                word.Append(char.ToLower(c, CultureInfo.InvariantCulture));
            }
        }
    }

    private static string Normalize(string word) =>
        word.Length > 3 && word[^1] == 's' && word[^2] != 's' ? word[..^1] : word;
}
