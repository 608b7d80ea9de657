namespace Gateway.Core.Approvals;

/// <summary>Tells listeners (the console, the webhook) that an approval was created or decided.</summary>
public sealed class ApprovalEvents
{
    /// <summary>Raised on the thread that made the change; handlers must not block.</summary>
    public event Action<Approval>? Changed;

    internal void Raise(Approval approval) => Changed?.Invoke(approval);
}
