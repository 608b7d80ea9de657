using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Gateway.Core.Siem;

namespace Gateway.Web.Siem;

/// <summary>A sink as configured and checked: its options, its resolved secret, and the certificates it trusts.</summary>
/// <param name="Name">The sink's name.</param>
/// <param name="Options">Its settings.</param>
/// <param name="Secret">The secret, read from the configuration, an environment variable or a file.</param>
/// <param name="Trust">How the receiver's certificate is checked.</param>
internal sealed record SiemSink(string Name, SiemSinkOptions Options, string? Secret, SiemCertificateTrust Trust);

/// <summary>
/// Reads <c>Gateway:Siem</c> at start; an invalid value stops the gateway with every error listed (a sink that cannot
/// work would otherwise fall behind silently).
/// </summary>
internal static partial class SiemConfiguration
{
    /// <summary>The limits on a batch, in entries and bytes.</summary>
    public const int MaxBatchSize = 10_000, MinBatchBytes = 4 * 1024, MaxBatchBytes = 16 * 1024 * 1024;

    /// <summary>The most bytes a secret file may have.</summary>
    public const int MaxSecretFileBytes = 16 * 1024;

    /// <summary>The prefixes of secrets read elsewhere.</summary>
    public const string EnvPrefix = "env:", FilePrefix = "file:";

    public static (SiemOptions Options, IReadOnlyList<SiemSink> Sinks) Read(IConfiguration configuration)
    {
        SiemOptions options;
        try
        {
            options = configuration.GetSection(SiemOptions.Section).Get<SiemOptions>() ?? new SiemOptions();
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"Invalid configuration: {SiemOptions.Section}: {ex.Message} (durations such as 00:00:01).", ex);
        }

        var errors = new List<string>();
        if (options.PollInterval < TimeSpan.FromMilliseconds(10) || options.PollInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{SiemOptions.Section}:PollInterval must be between 00:00:00.010 and 00:10:00.");
        }

        if (options.LeaseDuration < TimeSpan.FromSeconds(1) || options.LeaseDuration > TimeSpan.FromHours(1))
        {
            errors.Add($"{SiemOptions.Section}:LeaseDuration must be between 00:00:01 and 01:00:00.");
        }

        // Each sink bound on its own: bound as a dictionary, a sink with a value that does not convert would be dropped
        // without a word, and the trail would not be streamed where the operator believes it is.
        options.Sinks.Clear();
        var sinks = new List<SiemSink>();
        foreach (var section in configuration.GetSection($"{SiemOptions.Section}:Sinks").GetChildren())
        {
            var name = section.Key;
            var where = $"{SiemOptions.Section}:Sinks:{name}";
            SiemSinkOptions sink;
            try
            {
                sink = section.Get<SiemSinkOptions>() ?? new SiemSinkOptions();
            }
            catch (InvalidOperationException ex)
            {
                errors.Add($"{where}: {ex.Message} (Kind is https or syslog; Format json or splunkHec; StartAt beginning or end; durations such as 00:00:10).");
                continue;
            }

            options.Sinks[name] = sink;
            var before = errors.Count;
            Validate(name, sink, options, where, errors);
            var secret = ResolveSecret(sink.Secret, $"{where}:Secret", errors);
            var trust = SiemCertificateTrust.Read(sink, where, errors);
            if (errors.Count == before)
            {
                sinks.Add(new SiemSink(name, sink, secret, trust!));
            }
        }

        return errors.Count == 0 ? (options, sinks) : throw new InvalidOperationException("Invalid configuration: " + string.Join(" ", errors));
    }

    private static void Validate(string name, SiemSinkOptions sink, SiemOptions options, string where, List<string> errors)
    {
        if (!SinkName().IsMatch(name))
        {
            errors.Add($"{where}: a sink's name is 1 to 64 letters, digits, '-' or '_'.");
        }

        if (!Enum.IsDefined(sink.Kind))
        {
            errors.Add($"{where}:Kind must be https or syslog.");
        }

        if (sink.Kind == SiemSinkKind.Https)
        {
            if (!Uri.TryCreate(sink.Url, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttps)
            {
                errors.Add($"{where}:Url must be an absolute https URL (was '{Gateway.Core.Servers.SecretParts.MaskUrl(sink.Url)}').");
            }

            if (!Enum.IsDefined(sink.Format))
            {
                errors.Add($"{where}:Format must be json or splunkHec.");
            }

            if (sink.Format == HttpBatchFormat.SplunkHec && string.IsNullOrEmpty(sink.Secret))
            {
                errors.Add($"{where}:Secret (the HEC token) is required for splunkHec.");
            }

            if (string.IsNullOrWhiteSpace(sink.AuthHeader) || sink.AuthHeader.Any(c => c is <= ' ' or > '~' or ':'))
            {
                errors.Add($"{where}:AuthHeader must be a header name.");
            }
        }
        else if (sink.Kind == SiemSinkKind.Syslog)
        {
            if (string.IsNullOrWhiteSpace(sink.Host))
            {
                errors.Add($"{where}:Host is required for syslog.");
            }

            if (sink.Port is < 1 or > 65535)
            {
                errors.Add($"{where}:Port must be between 1 and 65535.");
            }

            if (sink.Facility is < 0 or > 23)
            {
                errors.Add($"{where}:Facility must be between 0 and 23.");
            }
        }

        if (sink.BatchSize is < 1 or > MaxBatchSize)
        {
            errors.Add($"{where}:BatchSize must be between 1 and {MaxBatchSize}.");
        }

        if (sink.MaxBatchBytes is < MinBatchBytes or > MaxBatchBytes)
        {
            errors.Add($"{where}:MaxBatchBytes must be between {MinBatchBytes} and {MaxBatchBytes}.");
        }

        // A delivery must end well inside the lease, or another instance could take the sink over while it runs.
        if (sink.Timeout < TimeSpan.FromMilliseconds(100) || sink.Timeout > options.LeaseDuration / 3)
        {
            errors.Add($"{where}:Timeout must be between 00:00:00.100 and a third of {SiemOptions.Section}:LeaseDuration.");
        }

        if (sink.RetryDelay < TimeSpan.FromMilliseconds(10) || sink.MaxRetryDelay < sink.RetryDelay || sink.MaxRetryDelay > TimeSpan.FromHours(1))
        {
            errors.Add($"{where}: RetryDelay must be at least 00:00:00.010 and MaxRetryDelay between it and 01:00:00.");
        }

        if (!Enum.IsDefined(sink.StartAt))
        {
            errors.Add($"{where}:StartAt must be beginning or end.");
        }
    }

    private static string? ResolveSecret(string? value, string where, List<string> errors)
    {
        if (value is null)
        {
            return null;
        }

        if (value.StartsWith(EnvPrefix, StringComparison.Ordinal))
        {
            var name = value[EnvPrefix.Length..];
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } resolved)
            {
                return resolved;
            }

            // Name the variable, never a value.
            errors.Add($"{where} refers to the environment variable {name}, which is not set.");
            return null;
        }

        if (value.StartsWith(FilePrefix, StringComparison.Ordinal))
        {
            var path = value[FilePrefix.Length..];
            try
            {
                var info = new FileInfo(path);
                if (!info.Exists || info.Length is 0 or > MaxSecretFileBytes)
                {
                    errors.Add($"{where} refers to {path}, which is missing, empty or larger than {MaxSecretFileBytes} bytes.");
                    return null;
                }

                // Secret files (Docker, Kubernetes) often end in a line break that is not part of the secret.
                return File.ReadAllText(path).TrimEnd('\r', '\n');
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                errors.Add($"{where} refers to {path}, which cannot be read: {ex.Message}");
                return null;
            }
        }

        return value;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex SinkName();
}
