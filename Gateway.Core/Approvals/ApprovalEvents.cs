namespace Gateway.Core.Approvals;

/// <summary>Tells listeners (the console, the webhook) that an approval was created or decided.</summary>
public sealed class ApprovalEvents
{
    /// <summary>Raised on the thread that made the change, by this instance; handlers must not block.</summary>
    public event Action<Approval>? Changed;

    /// <summary>
    /// Raised when a change made by another instance is seen in the database (a call held there, a decision made
    /// there). Pages refresh on it; the webhook does not, since the instance that made the change has posted it.
    /// </summary>
    public event Action<Approval>? Observed;

    internal void Raise(Approval approval) => Changed?.Invoke(approval);

    /// <summary>Reports an approval another instance created or decided.</summary>
    public void RaiseObserved(Approval approval) => Observed?.Invoke(approval);
}
