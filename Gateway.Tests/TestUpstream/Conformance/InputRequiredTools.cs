using System.ComponentModel;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using static Gateway.TestUpstream.Conformance.InputRounds;

namespace Gateway.TestUpstream.Conformance;

/// <summary>
/// The multi round-trip tools of the input-required-result-* scenarios (SEP-2322): each asks for client input by
/// throwing <see cref="InputRequiredException"/> and finishes when a retry brings the answers (and its signed state).
/// </summary>
[McpServerToolType]
public sealed class InputRequiredTools
{
    private const string RequestStateName = "test_input_required_result_request_state";
    private const string MultipleInputsName = "test_input_required_result_multiple_inputs";
    private const string MultiRoundName = "test_input_required_result_multi_round";
    private const string TamperedStateName = "test_input_required_result_tampered_state";

    [McpServerTool(Name = "test_input_required_result_elicitation"), Description("Asks the user's name (elicitation, key user_name) and greets them.")]
    public static string ElicitationTool(McpServer server, RequestContext<CallToolRequestParams> context)
    {
        var request = context.Params!;
        if (Elicitation(request, "user_name") is { } answer)
        {
            return answer.Action == "accept" ? $"Hello, {Field(answer, "name")}!" : $"No name was given (action={answer.Action}).";
        }

        Require(Capabilities(server, context.JsonRpcRequest), "elicitation");
        throw Ask(new Dictionary<string, InputRequest> { ["user_name"] = AskText("What is your name?", "name") });
    }

    [McpServerTool(Name = "test_input_required_result_sampling"), Description("Asks the client's model (sampling, key capital_question) for the capital of France.")]
    public static string SamplingTool(McpServer server, RequestContext<CallToolRequestParams> context)
    {
        if (SampledText(context.Params!, "capital_question") is { } text)
        {
            return "The model answered: " + text;
        }

        Require(Capabilities(server, context.JsonRpcRequest), "sampling");
        throw Ask(new Dictionary<string, InputRequest> { ["capital_question"] = AskModel("What is the capital of France?", 100) });
    }

    [McpServerTool(Name = "test_input_required_result_list_roots"), Description("Asks the client's roots (roots/list, key client_roots) and lists them.")]
    public static string ListRootsTool(McpServer server, RequestContext<CallToolRequestParams> context)
    {
        if (Roots(context.Params!, "client_roots") is { } roots)
        {
            return $"The client has {roots.Count} root(s): " + string.Join(", ", roots.Select(r => r.Uri));
        }

        Require(Capabilities(server, context.JsonRpcRequest), "roots");
        throw Ask(new Dictionary<string, InputRequest> { ["client_roots"] = AskRoots() });
    }

    [McpServerTool(Name = RequestStateName), Description("Asks a confirmation with a signed requestState and answers state-ok once both come back.")]
    public static string RequestStateTool(McpServer server, RequestContext<CallToolRequestParams> context)
    {
        var request = context.Params!;
        if (State(request, RequestStateName) is { } state && Elicitation(request, "confirm") is { } answer)
        {
            return $"state-ok: the echoed requestState verified (round {state["round"]}, ok={Field(answer, "ok")}).";
        }

        Require(Capabilities(server, context.JsonRpcRequest), "elicitation");
        throw Ask(
            new Dictionary<string, InputRequest> { ["confirm"] = AskConfirmation("Please confirm", "ok") },
            SignedRequestState.Seal(RequestStateName, new JsonObject { ["round"] = 1 }));
    }

    [McpServerTool(Name = MultipleInputsName), Description("Asks an elicitation, a sampling and a roots/list at once; the signed state keeps what earlier rounds answered.")]
    public static string MultipleInputsTool(McpServer server, RequestContext<CallToolRequestParams> context)
    {
        // A retry brings answers to the last round's asks only, so what earlier rounds answered travels in the state.
        var request = context.Params!;
        var known = State(request, MultipleInputsName) ?? [];
        if (Elicitation(request, "user_name") is { } name)
        {
            known["name"] = Field(name, "name");
        }

        if (SampledText(request, "greeting") is { } greeting)
        {
            known["greeting"] = greeting;
        }

        if (Roots(request, "client_roots") is { } roots)
        {
            known["roots"] = roots.Count;
        }

        if (known.Count == 3)
        {
            return $"Every input answered: name={known["name"]}, greeting={known["greeting"]}, roots={known["roots"]}.";
        }

        var declared = Capabilities(server, context.JsonRpcRequest);
        var asks = new Dictionary<string, InputRequest>();
        if (!known.ContainsKey("name"))
        {
            Require(declared, "elicitation");
            asks["user_name"] = AskText("What is your name?", "name");
        }

        if (!known.ContainsKey("greeting"))
        {
            Require(declared, "sampling");
            asks["greeting"] = AskModel("Generate a greeting", 50);
        }

        if (!known.ContainsKey("roots"))
        {
            Require(declared, "roots");
            asks["client_roots"] = AskRoots();
        }

        throw Ask(asks, SignedRequestState.Seal(MultipleInputsName, known));
    }

    [McpServerTool(Name = MultiRoundName), Description("Two rounds: a name (step1), then a favourite colour (step2); the state carries the name between them.")]
    public static string MultiRoundTool(McpServer server, RequestContext<CallToolRequestParams> context)
    {
        var request = context.Params!;
        var state = State(request, MultiRoundName);
        var round = (int?)state?["round"] ?? 0;
        if (round == 2 && Elicitation(request, "step2") is { } colour)
        {
            return $"Both rounds answered: {state!["name"]} likes {Field(colour, "color")}.";
        }

        Require(Capabilities(server, context.JsonRpcRequest), "elicitation");
        if (round == 1 && Elicitation(request, "step1") is { } name)
        {
            state = new JsonObject { ["round"] = 2, ["name"] = Field(name, "name") };
            round = 2;
        }

        if (round == 2)
        {
            throw Ask(
                new Dictionary<string, InputRequest> { ["step2"] = AskText("Step 2: What is your favorite color?", "color") },
                SignedRequestState.Seal(MultiRoundName, state!));
        }

        throw Ask(
            new Dictionary<string, InputRequest> { ["step1"] = AskText("Step 1: What is your name?", "name") },
            SignedRequestState.Seal(MultiRoundName, new JsonObject { ["round"] = 1 }));
    }

    [McpServerTool(Name = TamperedStateName), Description("Asks a confirmation under an HMAC-signed requestState; an edited state is refused with -32602.")]
    public static string TamperedStateTool(McpServer server, RequestContext<CallToolRequestParams> context)
    {
        var request = context.Params!;
        if (State(request, TamperedStateName) is not null && Elicitation(request, "confirm") is { } answer)
        {
            return $"Request state verified; the call is complete (ok={Field(answer, "ok")}).";
        }

        Require(Capabilities(server, context.JsonRpcRequest), "elicitation");
        throw Ask(
            new Dictionary<string, InputRequest> { ["confirm"] = AskConfirmation("Please confirm", "ok") },
            SignedRequestState.Seal(TamperedStateName, new JsonObject { ["purpose"] = "integrity-check" }));
    }

    [McpServerTool(Name = "test_input_required_result_capabilities"), Description("Asks only through the capabilities this request declared (elicitation, sampling, roots).")]
    public static string CapabilitiesTool(McpServer server, RequestContext<CallToolRequestParams> context)
    {
        var request = context.Params!;
        var answered = new[] { "user_answer", "model_answer", "client_roots" }.Where(k => request.InputResponses?.ContainsKey(k) == true).ToList();
        if (answered.Count > 0)
        {
            return "Declared-capability input answered: " + string.Join(", ", answered) + ".";
        }

        var declared = Capabilities(server, context.JsonRpcRequest);
        var asks = new Dictionary<string, InputRequest>();
        if (declared.Elicitation is not null)
        {
            asks["user_answer"] = AskText("Anything to add?", "text");
        }

        if (declared.Sampling is not null)
        {
            asks["model_answer"] = AskModel("Say hello.", 20);
        }

        if (declared.Roots is not null)
        {
            asks["client_roots"] = AskRoots();
        }

        return asks.Count > 0
            ? throw Ask(asks)
            : "The request declared none of elicitation, sampling or roots, so nothing was asked.";
    }
}
