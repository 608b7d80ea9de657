namespace Gateway.Core.Pipeline;

/// <summary>
/// Thrown by a forward delegate when the upstream answered a call by starting a task (the tasks extension's
/// <c>resultType: "task"</c>) instead of with a result: the call runs on upstream and its outcome comes later. Not a
/// failure: the pipeline records that a task was created and hands <see cref="Payload"/> back to the host, which
/// relays it to the agent.
/// </summary>
public sealed class UpstreamTaskCreatedException(object payload)
    : Exception("The upstream runs the call as a task.")
{
    /// <summary>Gets the protocol's task-creation result, opaque to Core.</summary>
    public object Payload { get; } = payload;
}
