namespace Gateway.Web.Identity;

/// <summary>Return URLs after sign-in.</summary>
public static class ReturnUrl
{
    /// <summary>Only local paths: a return URL comes from the query string and must not send the user elsewhere.</summary>
    public static string LocalOrRoot(string? url) =>
        !string.IsNullOrEmpty(url) && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\')) ? url : "/";
}
