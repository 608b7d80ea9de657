using System.ComponentModel;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream.Conformance;

/// <summary>The content tools of the conformance scenarios (tools-call-*).</summary>
[McpServerToolType]
public sealed class ConformanceTools
{
    [McpServerTool(Name = "test_simple_text"), Description("Returns a simple text response.")]
    public static string SimpleText() => "This is a simple text response for testing.";

    [McpServerTool(Name = "test_image_content"), Description("Returns a 1x1 PNG image.")]
    public static CallToolResult ImageContent() => new()
    {
        Content = [ImageContentBlock.FromBytes(TestMedia.Png, "image/png")],
    };

    [McpServerTool(Name = "test_audio_content"), Description("Returns a tiny WAV clip.")]
    public static CallToolResult AudioContent() => new()
    {
        Content = [AudioContentBlock.FromBytes(TestMedia.Wav, "audio/wav")],
    };

    [McpServerTool(Name = "test_embedded_resource"), Description("Returns an embedded text resource.")]
    public static CallToolResult EmbeddedResource() => new()
    {
        Content =
        [
            new EmbeddedResourceBlock
            {
                Resource = new TextResourceContents
                {
                    Uri = "test://embedded-resource",
                    MimeType = "text/plain",
                    Text = "This is an embedded resource content.",
                },
            },
        ],
    };

    [McpServerTool(Name = "test_multiple_content_types"), Description("Returns text, image and resource content together.")]
    public static CallToolResult MultipleContentTypes() => new()
    {
        Content =
        [
            new TextContentBlock { Text = "Multiple content types test:" },
            ImageContentBlock.FromBytes(TestMedia.Png, "image/png"),
            new EmbeddedResourceBlock
            {
                Resource = new TextResourceContents
                {
                    Uri = "test://mixed-content-resource",
                    MimeType = "application/json",
                    Text = """{"test":"data","value":123}""",
                },
            },
        ],
    };

    [McpServerTool(Name = "test_error_handling"), Description("Always fails with a tool error.")]
    public static CallToolResult ErrorHandling() => new()
    {
        IsError = true,
        Content = [new TextContentBlock { Text = "This tool intentionally returns an error for testing" }],
    };

    [McpServerTool(Name = "test_tool_with_logging"), Description("Sends three info log notifications while it runs.")]
    public static async Task<string> ToolWithLogging(
        McpServer server, RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken)
    {
        await ConformanceLogging.InfoAsync(server, request.JsonRpcRequest, "Tool execution started", cancellationToken);
        await Task.Delay(50, cancellationToken);
        await ConformanceLogging.InfoAsync(server, request.JsonRpcRequest, "Tool processing data", cancellationToken);
        await Task.Delay(50, cancellationToken);
        await ConformanceLogging.InfoAsync(server, request.JsonRpcRequest, "Tool execution completed", cancellationToken);
        return "Tool with logging executed successfully";
    }

    [McpServerTool(Name = "test_tool_with_progress"), Description("Reports progress 0, 50 and 100 of 100.")]
    public static async Task<string> ToolWithProgress(
        McpServer server, RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken)
    {
        // Awaiting each notification (rather than IProgress<T>, which does not wait) keeps them in order and before the result.
        var token = request.Params?.ProgressToken;
        for (var step = 0; step <= 2; step++)
        {
            if (step > 0)
            {
                await Task.Delay(50, cancellationToken);
            }

            if (token is { } progressToken)
            {
                await server.NotifyProgressAsync(
                    progressToken,
                    new ProgressNotificationValue { Progress = step * 50, Total = 100, Message = $"step {step + 1} of 3" },
                    cancellationToken: cancellationToken);
            }
        }

        return "Tool with progress executed successfully";
    }
}
