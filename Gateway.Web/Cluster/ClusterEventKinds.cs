namespace Gateway.Web.Cluster;

/// <summary>The kinds of <see cref="Gateway.Core.Sessions.ClusterEvent"/> the instances tell each other.</summary>
internal static class ClusterEventKinds
{
    /// <summary>A 2025-11-25 session its client ended (DELETE) on one instance; subject: the session id.</summary>
    public const string SessionEnded = "session-ended";
}
