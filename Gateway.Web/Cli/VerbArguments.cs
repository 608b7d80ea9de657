namespace Gateway.Web.Cli;

/// <summary>A verb's options (<c>--name value</c>, repeatable) and the configuration settings (<c>--Section:Key=value</c>) given with it.</summary>
internal sealed class VerbArguments
{
    private static readonly HashSet<string> Known = ["--file", "--out", "--format", "--from", "--to", "--agent", "--server", "--checkpoints", "--public-key", "--db", "--witness", "--witness-auth", "--witness-ca", "--origin", "--framework"];
    private readonly Dictionary<string, List<string>> _options = [];

    public List<string> Settings { get; } = [];

    public static VerbArguments Parse(string[] args)
    {
        var parsed = new VerbArguments();
        for (var i = 1; i < args.Length; i++)
        {
            var arg = args[i];
            if (Known.Contains(arg))
            {
                if (i + 1 >= args.Length)
                {
                    throw new ArgumentException($"{arg} needs a value.");
                }

                if (!parsed._options.TryGetValue(arg, out var values))
                {
                    parsed._options[arg] = values = [];
                }

                values.Add(args[++i]);
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains(':', StringComparison.Ordinal))
            {
                parsed.Settings.Add(arg);
                if (!arg.Contains('=', StringComparison.Ordinal) && i + 1 < args.Length)
                {
                    parsed.Settings.Add(args[++i]);
                }
            }
            else
            {
                throw new ArgumentException($"Unknown argument '{arg}'.");
            }
        }

        return parsed;
    }

    public string? this[string name] => _options.TryGetValue(name, out var values) ? values[^1] : null;

    public IReadOnlyList<string> All(string name) => _options.TryGetValue(name, out var values) ? values : [];
}
