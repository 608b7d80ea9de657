using System.ComponentModel;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream.Conformance;

/// <summary>Tools that call back into the client mid-call: sampling and elicitation scenarios.</summary>
[McpServerToolType]
public sealed class ConformanceClientRequestTools
{
    [McpServerTool(Name = "test_sampling"), Description("Asks the client's LLM (sampling/createMessage) and returns its answer.")]
    public static async Task<string> Sampling(
        McpServer server, [Description("The prompt to send to the LLM")] string prompt, CancellationToken cancellationToken)
    {
        if (server.ClientCapabilities?.Sampling is null)
        {
            throw new McpException("The client does not support sampling");
        }

        var result = await server.SampleAsync(
            new CreateMessageRequestParams
            {
                Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = prompt }] }],
                MaxTokens = 100,
            },
            cancellationToken);
        var text = string.Join("", result.Content.OfType<TextContentBlock>().Select(c => c.Text));
        return "LLM response: " + text;
    }

    [McpServerTool(Name = "test_elicitation"), Description("Asks the user (elicitation/create) for a username and an email.")]
    public static async Task<string> Elicitation(
        McpServer server, [Description("The message to show the user")] string message, CancellationToken cancellationToken)
    {
        RequireElicitation(server);
        var result = await server.ElicitAsync(
            new ElicitRequestParams
            {
                Message = message,
                RequestedSchema = new ElicitRequestParams.RequestSchema
                {
                    Properties =
                    {
                        ["username"] = new ElicitRequestParams.StringSchema { Description = "User's response" },
                        ["email"] = new ElicitRequestParams.StringSchema { Description = "User's email address" },
                    },
                    Required = ["username", "email"],
                },
            },
            cancellationToken);
        return $"User response: action={result.Action}, content={Serialize(result)}";
    }

    [McpServerTool(Name = "test_elicitation_sep1034_defaults"), Description("Elicits a form whose fields all have defaults (SEP-1034).")]
    public static async Task<string> ElicitationDefaults(McpServer server, CancellationToken cancellationToken)
    {
        RequireElicitation(server);
        var result = await server.ElicitAsync(
            new ElicitRequestParams
            {
                Message = "Please review and update the form fields with defaults",
                RequestedSchema = new ElicitRequestParams.RequestSchema
                {
                    Properties =
                    {
                        ["name"] = new ElicitRequestParams.StringSchema { Description = "User name", Default = "John Doe" },
                        ["age"] = new ElicitRequestParams.NumberSchema { Type = "integer", Description = "User age", Default = 30 },
                        ["score"] = new ElicitRequestParams.NumberSchema { Description = "User score", Default = 95.5 },
                        ["status"] = new ElicitRequestParams.UntitledSingleSelectEnumSchema
                        {
                            Description = "User status",
                            Enum = ["active", "inactive", "pending"],
                            Default = "active",
                        },
                        ["verified"] = new ElicitRequestParams.BooleanSchema { Description = "Verification status", Default = true },
                    },
                },
            },
            cancellationToken);
        return $"Elicitation completed: action={result.Action}, content={Serialize(result)}";
    }

    [McpServerTool(Name = "test_elicitation_sep1330_enums"), Description("Elicits a form with the five enum schema variants (SEP-1330).")]
    public static async Task<string> ElicitationEnums(McpServer server, CancellationToken cancellationToken)
    {
        RequireElicitation(server);
        var result = await server.ElicitAsync(
            new ElicitRequestParams
            {
                Message = "Please select options from the enum fields",
                RequestedSchema = new ElicitRequestParams.RequestSchema
                {
                    Properties =
                    {
                        ["untitledSingle"] = new ElicitRequestParams.UntitledSingleSelectEnumSchema
                        {
                            Description = "Select one option",
                            Enum = ["option1", "option2", "option3"],
                        },
                        ["titledSingle"] = new ElicitRequestParams.TitledSingleSelectEnumSchema
                        {
                            Description = "Select one option with titles",
                            OneOf =
                            [
                                new() { Const = "value1", Title = "First Option" },
                                new() { Const = "value2", Title = "Second Option" },
                                new() { Const = "value3", Title = "Third Option" },
                            ],
                        },
#pragma warning disable MCP9001 // The deprecated enumNames form is exactly what this scenario checks.
                        ["legacyEnum"] = new ElicitRequestParams.LegacyTitledEnumSchema
                        {
                            Description = "Select one option (legacy)",
                            Enum = ["opt1", "opt2", "opt3"],
                            EnumNames = ["Option One", "Option Two", "Option Three"],
                        },
#pragma warning restore MCP9001
                        ["untitledMulti"] = new ElicitRequestParams.UntitledMultiSelectEnumSchema
                        {
                            Description = "Select multiple options",
                            Items = new ElicitRequestParams.UntitledEnumItemsSchema { Enum = ["option1", "option2", "option3"] },
                        },
                        ["titledMulti"] = new ElicitRequestParams.TitledMultiSelectEnumSchema
                        {
                            Description = "Select multiple options with titles",
                            Items = new ElicitRequestParams.TitledEnumItemsSchema
                            {
                                AnyOf =
                                [
                                    new() { Const = "value1", Title = "First Choice" },
                                    new() { Const = "value2", Title = "Second Choice" },
                                    new() { Const = "value3", Title = "Third Choice" },
                                ],
                            },
                        },
                    },
                },
            },
            cancellationToken);
        return $"Elicitation completed: action={result.Action}, content={Serialize(result)}";
    }

    private static void RequireElicitation(McpServer server)
    {
        if (server.ClientCapabilities?.Elicitation is null)
        {
            throw new McpException("The client does not support elicitation");
        }
    }

    private static string Serialize(ElicitResult result) =>
        result.Content is null ? "{}" : JsonSerializer.Serialize(result.Content);
}
