using System.Security.Cryptography;

namespace Gateway.Core.Audit;

/// <summary>
/// This process among the instances sharing a database: a random id for its lifetime, carried in the call ids it
/// issues (<c>{Id}-{guid}</c>), so a restarting instance can tell the calls of instances still running (it must leave
/// them) from those of an instance that stopped before recording their end (it records them as unknown).
/// </summary>
public sealed record GatewayInstance(string Id)
{
    /// <summary>A new instance id: 12 lower-case hex characters.</summary>
    public static GatewayInstance New() => new(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
}
