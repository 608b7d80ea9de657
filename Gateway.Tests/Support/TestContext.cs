namespace Gateway.Tests.Support;

/// <summary>Bounds for waits in tests: generous, so a slow CI machine does not fail a correct test, and finite, so a broken one fails.</summary>
internal static class TestContext
{
    /// <summary>Gets a token that cancels after 60 seconds.</summary>
    public static CancellationToken Timeout => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;
}
