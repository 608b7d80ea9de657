using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Gateway.Core.Policy;

/// <summary>An <see cref="ArgumentCondition"/> ready to evaluate: path parsed, regex compiled, number read.</summary>
internal sealed class CompiledCondition
{
    private readonly ArgumentPath? _path;
    private readonly string? _fact;
    private readonly ConditionOperator _op;
    private readonly JsonElement _value;
    private readonly Regex? _regex;
    private readonly double _number;
    private readonly string? _under;

    public CompiledCondition(ArgumentCondition condition)
    {
        if (PolicyFacts.IsFact(condition.Path))
        {
            _fact = condition.Path;
        }
        else if (ArgumentPath.TryParse(condition.Path, out var path))
        {
            _path = path;
        }
        else
        {
            throw new ArgumentException($"Invalid argument path '{condition.Path}'.", nameof(condition));
        }

        _op = condition.Operator;
        _value = condition.Value.Clone();
        if (_op == ConditionOperator.Matches)
        {
            _regex = new Regex(_value.GetString()!, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
        }
        else if (_value.ValueKind == JsonValueKind.Number)
        {
            _number = _value.GetDouble();
        }
        else if (_op == ConditionOperator.Under)
        {
            _under = NormalizePath(_value.GetString()!);
        }
    }

    /// <summary>
    /// Evaluates the condition: <see langword="true"/> or <see langword="false"/>, or <see langword="null"/> when it
    /// cannot be decided (a regex that timed out, a relative path under a path rule, a non-numeric string compared as a
    /// number). The engine resolves "undecided" against the agent: a block or escalate rule then applies, an allow rule does not.
    /// </summary>
    public bool? Evaluate(in PolicyInput input)
    {
        if (_fact is not null)
        {
            return EvaluateFact(input);
        }

        if (!_path!.TryResolve(input.Arguments, out var actual))
        {
            return false;
        }

        switch (_op)
        {
            case ConditionOperator.Exists:
                return true;
            case ConditionOperator.Equals:
                return JsonEquals(actual, _value);
            case ConditionOperator.NotEquals:
                return !JsonEquals(actual, _value);
            case ConditionOperator.In:
                foreach (var candidate in _value.EnumerateArray())
                {
                    if (JsonEquals(actual, candidate))
                    {
                        return true;
                    }
                }

                return false;
            case ConditionOperator.Matches:
                if (actual.ValueKind != JsonValueKind.String)
                {
                    return false;
                }

                try
                {
                    return _regex!.IsMatch(actual.GetString()!);
                }
                catch (RegexMatchTimeoutException)
                {
                    return null;
                }

            case ConditionOperator.Under:
                if (actual.ValueKind != JsonValueKind.String)
                {
                    return false;
                }

                var text = actual.GetString()!.Replace('\\', '/');
                if (!text.StartsWith('/'))
                {
                    // Relative to what? The upstream's working directory is unknown here.
                    return null;
                }

                var normalized = NormalizePath(text);
                return _under == "/" || normalized == _under || normalized.StartsWith(_under + "/", StringComparison.Ordinal);
            default:
                double number;
                if (actual.ValueKind == JsonValueKind.Number)
                {
                    number = actual.GetDouble();
                }
                else if (actual.ValueKind == JsonValueKind.String && double.TryParse(actual.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
                {
                    // Many upstreams accept numbers as strings; so does the comparison.
                    number = parsed;
                }
                else
                {
                    return actual.ValueKind == JsonValueKind.String ? null : false;
                }

                return _op switch
                {
                    ConditionOperator.GreaterThan => number > _number,
                    ConditionOperator.GreaterOrEqual => number >= _number,
                    ConditionOperator.LessThan => number < _number,
                    _ => number <= _number,
                };
        }
    }

    /// <summary>A condition on a fact set (see <see cref="PolicyFacts"/>); undecided when the session's facts are not kept.</summary>
    private bool? EvaluateFact(in PolicyInput input)
    {
        if (PolicyFacts.Resolve(_fact!, input) is not { } set)
        {
            return null;
        }

        switch (_op)
        {
            case ConditionOperator.Exists:
                return set.Count > 0;
            case ConditionOperator.Equals:
                return PolicyFacts.Contains(set, _value);
            case ConditionOperator.NotEquals:
                return !PolicyFacts.Contains(set, _value);
            case ConditionOperator.In:
                foreach (var candidate in _value.EnumerateArray())
                {
                    if (PolicyFacts.Contains(set, candidate))
                    {
                        return true;
                    }
                }

                return false;
            case ConditionOperator.Matches:
                try
                {
                    for (var i = 0; i < set.Count; i++)
                    {
                        if (_regex!.IsMatch(set[i]))
                        {
                            return true;
                        }
                    }

                    return false;
                }
                catch (RegexMatchTimeoutException)
                {
                    return null;
                }

            default:
                return false;
        }
    }

    internal static bool JsonEquals(JsonElement a, JsonElement b)
    {
        if (a.ValueKind == JsonValueKind.Number && b.ValueKind == JsonValueKind.Number)
        {
            return a.GetDouble() == b.GetDouble();
        }

        if (a.ValueKind != b.ValueKind)
        {
            return false;
        }

        return a.ValueKind switch
        {
            JsonValueKind.String => string.Equals(a.GetString(), b.GetString(), StringComparison.Ordinal),
            JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null => true,
            _ => Audit.CanonicalJson.Serialize(a) == Audit.CanonicalJson.Serialize(b),
        };
    }

    /// <summary>Resolves <c>.</c>, <c>..</c> and repeated slashes of an absolute path (<c>/etc/../etc//passwd</c> is <c>/etc/passwd</c>).</summary>
    internal static string NormalizePath(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Replace('\\', '/').Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                continue;
            }

            parts.Add(part);
        }

        return "/" + string.Join('/', parts);
    }
}
