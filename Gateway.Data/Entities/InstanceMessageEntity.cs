namespace Gateway.Data.Entities;

/// <summary>Row of <c>InstanceMessages</c>: a message left for another instance (see <c>Gateway.Core.Sessions.IInstanceMailbox</c>), deleted when taken or expired.</summary>
public sealed class InstanceMessageEntity
{
    public long Id { get; set; }

    public required string Instance { get; set; }

    public required string Kind { get; set; }

    public required string SessionId { get; set; }

    public required string Payload { get; set; }

    /// <summary>Gets or sets when nobody acts on it any more, in Unix milliseconds (a plain integer on both engines).</summary>
    public long ExpiresAtMs { get; set; }
}
