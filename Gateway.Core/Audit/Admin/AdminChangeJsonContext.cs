using System.Text.Json.Serialization;
using Gateway.Core.Agents;
using Gateway.Core.Policy;
using Gateway.Core.Servers;

namespace Gateway.Core.Audit.Admin;

/// <summary>
/// Compile-time serialization metadata for the states that configuration provisioning records at every start with a
/// changed or new configuration (servers, agents, policies). Built by reflection instead, their metadata cost about
/// 0.2 s of CPU at start; other states (anonymous shapes) still go through reflection. The names and converters are
/// those of <see cref="AdminChanges"/>' options, which this resolves for.
/// </summary>
[JsonSerializable(typeof(ServerDefinition))]
[JsonSerializable(typeof(AgentRecord))]
[JsonSerializable(typeof(PolicyRule))]
internal sealed partial class AdminChangeJsonContext : JsonSerializerContext;
