namespace Gateway.Web.Admin.Servers;

/// <summary>How a one-off connection to a server went (nothing saved).</summary>
/// <param name="Ok">Whether it connected and listed its tools.</param>
/// <param name="Message">What happened, for the person testing.</param>
public sealed record ConnectionTest(bool Ok, string Message);
