using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace Gateway.Web.Mcp.Tasks;

/// <summary>
/// Seals and opens the task ids agents see. The id an agent gets is the upstream's id bound to that agent and server
/// (and the call, for the audit), encrypted and authenticated with the gateway's data-protection key ring: another
/// agent cannot get, update or cancel it (it does not open for them), nobody can forge one for another server's or
/// agent's task, and any instance of a cluster opens it (the ring is shared) without a table of tasks to keep, expire
/// or replicate. Unlike a requestState it opens any number of times: an agent polls its task.
/// </summary>
internal sealed partial class TaskIdSeal(IDataProtectionProvider provider, ILogger<TaskIdSeal> logger)
{
    /// <summary>Every id that does not open gets this one answer, as an unknown id does upstream (-32602).</summary>
    public const string Unknown = "Unknown taskId.";

    private const string Prefix = "gwt1.";

    // An upstream's id (at most UpstreamTaskResult.MaxTaskIdLength) plus the binding stays far below this; anything
    // longer is not one of ours. The same bound as the followed tasks' column, which keeps sealed ids whole.
    private const int MaxLength = Gateway.Core.Sessions.IFollowedTaskStore.MaxBindingLength;

    private readonly IDataProtector _protector = provider.CreateProtector("Gateway.Mcp.TaskId.v1");

    public string Seal(TaskBinding binding) =>
        Prefix + Base64Url.EncodeToString(_protector.Protect(JsonSerializer.SerializeToUtf8Bytes(binding)));

    /// <summary>
    /// Opens an id for the caller <paramref name="agent"/>; null when it is not a gateway task id, was altered, or is
    /// another agent's, or another user's of the same agent.
    /// </summary>
    public TaskBinding? Open(string id, Gateway.Core.Agents.AgentIdentity agent) => Open(id, agent.Id) switch
    {
        { } binding when !string.Equals(binding.User, agent.User, StringComparison.Ordinal) => Refuse("another user's task"),
        var binding => binding,
    };

    /// <summary>Opens an id of <paramref name="agent"/>'s, for whichever user (the follower's own record of the task); null as above.</summary>
    public TaskBinding? Open(string id, long agent)
    {
        TaskBinding? binding;
        try
        {
            if (!id.StartsWith(Prefix, StringComparison.Ordinal) || id.Length > MaxLength)
            {
                return Refuse("not a gateway task id");
            }

            binding = JsonSerializer.Deserialize<TaskBinding>(_protector.Unprotect(Base64Url.DecodeFromChars(id.AsSpan(Prefix.Length))));
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or JsonException)
        {
            return Refuse("it does not decrypt");
        }

        return binding is null ? Refuse("empty")
            : binding.Agent != agent ? Refuse("another agent's task")
            : binding;
    }

    private TaskBinding? Refuse(string why)
    {
        LogRefused(why);
        return null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a task id: {Reason}.")]
    private partial void LogRefused(string reason);
}
