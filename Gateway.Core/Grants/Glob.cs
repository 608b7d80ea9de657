namespace Gateway.Core.Grants;

/// <summary>A wildcard pattern: <c>*</c> matches any run of characters, <c>?</c> one character; matching is ordinal.</summary>
/// <remarks>Hand-written rather than a regex: it runs on every call and allocates nothing.</remarks>
public readonly record struct Glob(string Pattern)
{
    /// <summary>Gets a value indicating whether the pattern is the catch-all <c>*</c>.</summary>
    public bool IsAny => Pattern == "*";

    /// <summary>Returns whether <paramref name="text"/> matches the pattern.</summary>
    public bool IsMatch(ReadOnlySpan<char> text)
    {
        if (IsAny)
        {
            return true;
        }

        var p = Pattern.AsSpan();
        int pi = 0, ti = 0, star = -1, mark = 0;
        while (ti < text.Length)
        {
            if (pi < p.Length && (p[pi] == '?' || p[pi] == text[ti]))
            {
                pi++;
                ti++;
            }
            else if (pi < p.Length && p[pi] == '*')
            {
                star = pi++;
                mark = ti;
            }
            else if (star >= 0)
            {
                pi = star + 1;
                ti = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (pi < p.Length && p[pi] == '*')
        {
            pi++;
        }

        return pi == p.Length;
    }

    /// <inheritdoc/>
    public override string ToString() => Pattern;
}
