using Gateway.Core.Identity;

namespace Gateway.Data.Entities;

/// <summary>Row of <c>RevokedUsers</c>: a user whose agents may no longer call through the gateway.</summary>
public sealed class RevokedUserEntity
{
    /// <summary>Gets or sets the user, as the OAuth caller's user claim names them.</summary>
    public required string User { get; set; }

    public required string RevokedBy { get; set; }

    public DateTimeOffset RevokedAt { get; set; }

    /// <summary>Gets or sets why (stored by name); rows from before reasons existed are an admin's.</summary>
    public RevocationReason Reason { get; set; }
}
