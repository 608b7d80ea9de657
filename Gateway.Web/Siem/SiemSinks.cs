namespace Gateway.Web.Siem;

/// <summary>The configured sinks, for the console (names and kinds; never their secrets).</summary>
internal sealed record SiemSinks(IReadOnlyList<SiemSink> All);
