using System.ComponentModel;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream.Conformance;

/// <summary>The prompts of the conformance scenarios (prompts-get-*).</summary>
[McpServerPromptType]
public sealed class ConformancePrompts
{
    [McpServerPrompt(Name = "test_simple_prompt"), Description("A simple prompt without arguments.")]
    public static PromptMessage SimplePrompt() => UserText("This is a simple prompt for testing.");

    [McpServerPrompt(Name = "test_prompt_with_arguments"), Description("A prompt with two required arguments.")]
    public static PromptMessage PromptWithArguments(
        [Description("First test argument")] string arg1, [Description("Second test argument")] string arg2) =>
        UserText($"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'");

    [McpServerPrompt(Name = "test_prompt_with_embedded_resource"), Description("A prompt that embeds a resource.")]
    public static IEnumerable<PromptMessage> PromptWithEmbeddedResource(
        [Description("URI of the resource to embed")] string resourceUri) =>
    [
        new PromptMessage
        {
            Role = Role.User,
            Content = new EmbeddedResourceBlock
            {
                Resource = new TextResourceContents
                {
                    Uri = resourceUri,
                    MimeType = "text/plain",
                    Text = "Embedded resource content for testing.",
                },
            },
        },
        UserText("Please process the embedded resource above."),
    ];

    [McpServerPrompt(Name = "test_prompt_with_image"), Description("A prompt that carries an image.")]
    public static IEnumerable<PromptMessage> PromptWithImage() =>
    [
        new PromptMessage { Role = Role.User, Content = ImageContentBlock.FromBytes(TestMedia.Png, "image/png") },
        UserText("Please analyze the image above."),
    ];

    private static PromptMessage UserText(string text) =>
        new() { Role = Role.User, Content = new TextContentBlock { Text = text } };
}
