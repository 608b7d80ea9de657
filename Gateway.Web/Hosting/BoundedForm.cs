using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Web.Hosting;

/// <summary>
/// Reads a small form whose body is bounded before it is read: a body over the bound is refused with 413, a body that
/// is not a readable form with 400, and neither throws into the host (a 500).
/// </summary>
internal static class BoundedForm
{
    /// <summary>
    /// Bounds the request's body before anyone reads it: false when its declared length is already over the bound;
    /// otherwise a body that runs past it (chunked) fails the read with Kestrel's 413.
    /// </summary>
    public static bool TryLimit(HttpContext context, int maxBodyBytes)
    {
        if (context.Request.ContentLength > maxBodyBytes)
        {
            return false;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBodyBytes;
        }

        return true;
    }

    /// <summary>Reads the request's form, or says why not.</summary>
    /// <returns>The form, or null with the status and a message for the caller's refusal.</returns>
    public static async Task<(IFormCollection? Form, int Status, string? Problem)> ReadAsync(HttpContext context, int maxBodyBytes)
    {
        var tooLarge = (default(IFormCollection), StatusCodes.Status413PayloadTooLarge, $"The request body is over {maxBodyBytes} bytes.");
        if (!TryLimit(context, maxBodyBytes))
        {
            return tooLarge;
        }

        if (!context.Request.HasFormContentType)
        {
            return (null, StatusCodes.Status400BadRequest, "The request must be a form (application/x-www-form-urlencoded).");
        }

        try
        {
            return (await context.Request.ReadFormAsync(context.RequestAborted), StatusCodes.Status200OK, null);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return tooLarge;
        }
        catch (Exception ex) when (ex is InvalidDataException or BadHttpRequestException)
        {
            return (null, StatusCodes.Status400BadRequest, "The request is not a readable form.");
        }
    }
}
