namespace Gateway.Tests.Support;

/// <summary>Polls a condition with a deadline instead of sleeping a guessed time: fast when it holds early, finite when it never does.</summary>
internal static class Eventually
{
    /// <summary>Waits until <paramref name="condition"/> holds; fails with <paramref name="what"/> after <paramref name="timeout"/> (10 s by default).</summary>
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {what}.");
            await Task.Delay(5);
        }
    }

    /// <summary>Waits until the asynchronous <paramref name="condition"/> holds; fails with <paramref name="what"/> after <paramref name="timeout"/> (10 s by default).</summary>
    public static Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        TrueAsync(condition, () => what, timeout);

    /// <summary>As above, with the failure's text made when it fails (to show what the last look saw).</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, Func<string> what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail($"Timed out waiting until {what()}.");
            }

            await Task.Delay(5);
        }
    }
}
