namespace Gateway.Data.Entities;

/// <summary>Row of <c>SingleUseMarks</c>: a key taken once (see <c>Gateway.Core.Sessions.ISingleUseLedger</c>), kept until it expires.</summary>
public sealed class SingleUseMarkEntity
{
    public required string Key { get; set; }

    /// <summary>Gets or sets when the mark may go, in Unix milliseconds: a plain integer on both engines, so the one insert statement binds it alike.</summary>
    public long ExpiresAtMs { get; set; }
}
