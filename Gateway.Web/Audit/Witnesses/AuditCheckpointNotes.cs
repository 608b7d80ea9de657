using Gateway.Core.Audit;
using Gateway.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Audit.Witnesses;

/// <summary>Writes checkpoints as this gateway's signed notes (its key, its origin), for the witnesses and the SIEM stream alike.</summary>
public sealed class AuditCheckpointNotes(AuditSigningKey key, IOptions<GatewayOptions> options)
{
    /// <summary>The note of <paramref name="checkpoint"/>, signed now.</summary>
    public string Format(AuditCheckpoint checkpoint) =>
        AuditCheckpointNote.Format(checkpoint, AuditWitnesses.Origin(options.Value.Audit.CheckpointOrigin, key.Key), key.Key);
}
