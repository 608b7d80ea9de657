using System.Globalization;

namespace Gateway.Web.Identity;

/// <summary>
/// The answer to a throttled sign-in: the form was posted by a browser, so a person reads it. A bare 429 leaves them on
/// a blank page not knowing when to try again; this page says when, and goes back to the sign-in form by itself then.
/// </summary>
internal static class LoginThrottledPage
{
    public static async Task WriteAsync(HttpResponse response, int seconds, CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        response.Headers.CacheControl = "no-store";
        response.ContentType = "text/html; charset=utf-8";
        await response.WriteAsync(Html(seconds), cancellationToken);
    }

    /// <summary>The message, also what tests look for.</summary>
    public static string Message(int seconds) => string.Create(CultureInfo.InvariantCulture, $"Too many attempts; try again in {seconds} s.");

    private static string Html(int seconds) => string.Create(CultureInfo.InvariantCulture, $$"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
            <meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1.0" />
            <meta http-equiv="refresh" content="{{seconds}};url=/login" />
            <title>Sign in · MCP Gateway</title>
            <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
            <style>body{font-family:Roboto,Helvetica,Arial,sans-serif;display:flex;justify-content:center;margin-top:15vh;color:#424242}main{max-width:28rem;padding:24px;border-radius:4px;box-shadow:0 2px 6px rgba(0,0,0,.2)}p#throttled{color:#b71c1c}</style>
        </head>
        <body>
            <main>
                <h1>Sign in</h1>
                <p id="throttled">{{Message(seconds)}}</p>
                <p>Sign-in attempts from this address are limited to keep passwords from being guessed. This page returns to the <a href="/login">sign-in form</a> when you may try again.</p>
            </main>
        </body>
        </html>
        """);
}
