using System.ComponentModel;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using static Gateway.TestUpstream.Conformance.InputRounds;

namespace Gateway.TestUpstream.Conformance;

/// <summary>The prompt of input-required-result-non-tool-request: a multi round-trip outside tools/call (SEP-2322).</summary>
[McpServerPromptType]
public sealed class InputRequiredPrompts
{
    [McpServerPrompt(Name = "test_input_required_result_prompt"), Description("Asks the user (elicitation, key user_context) what context the prompt should use.")]
    public static PromptMessage ContextPrompt(McpServer server, RequestContext<GetPromptRequestParams> context)
    {
        if (Elicitation(context.Params!, "user_context") is { } answer)
        {
            return new PromptMessage
            {
                Role = Role.User,
                Content = new TextContentBlock { Text = $"Answer with this context in mind: {Field(answer, "context")}" },
            };
        }

        Require(Capabilities(server, context.JsonRpcRequest), "elicitation");
        throw Ask(new Dictionary<string, InputRequest> { ["user_context"] = AskText("What context should the prompt use?", "context") });
    }
}
