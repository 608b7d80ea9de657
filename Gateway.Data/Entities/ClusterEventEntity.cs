namespace Gateway.Data.Entities;

/// <summary>Row of <c>ClusterEvents</c> (see <c>Gateway.Core.Sessions.IClusterEventLog</c>), deleted after it expires.</summary>
public sealed class ClusterEventEntity
{
    public long Id { get; set; }

    public required string Origin { get; set; }

    public required string Kind { get; set; }

    public required string Subject { get; set; }

    /// <summary>Gets or sets when nobody needs it any more, in Unix milliseconds (a plain integer on both engines).</summary>
    public long ExpiresAtMs { get; set; }
}
