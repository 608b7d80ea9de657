using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Support;

/// <summary>
/// An OTLP/HTTP collector endpoint on loopback: it accepts <c>/v1/traces</c> (protobuf, as the .NET exporter sends it)
/// and keeps every span, decoded by <see cref="OtlpTraceDecoder"/>; <c>/v1/metrics</c> is accepted and dropped.
/// No OTLP protobuf types are packaged for .NET (OpenTelemetry.Proto is not published), hence the small decoder.
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private const int MaxBody = 16 * 1024 * 1024;
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<OtlpSpan> _spans = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    /// <summary>Gets the collector's base URL (the exporter appends <c>v1/traces</c>).</summary>
    public Uri Endpoint => new(_app.Urls.First());

    /// <summary>Gets every span received so far.</summary>
    public IReadOnlyList<OtlpSpan> Spans => [.. _spans];

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(["--hostBuilder:reloadConfigOnChange=false"]);
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1));
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", receiver.ReceiveAsync);
        app.MapPost("/v1/metrics", () => Results.Bytes([], "application/x-protobuf"));
        await app.StartAsync();
        return receiver;
    }

    /// <summary>The spans of one trace.</summary>
    public IReadOnlyList<OtlpSpan> Trace(string traceId) => [.. _spans.Where(s => s.TraceId == traceId)];

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private async Task ReceiveAsync(HttpContext context)
    {
        if (context.Request.ContentType != "application/x-protobuf" || context.Request.ContentLength > MaxBody)
        {
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }

        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        foreach (var span in OtlpTraceDecoder.Decode(body.ToArray()))
        {
            _spans.Enqueue(span);
        }

        // An empty ExportTraceServiceResponse: everything accepted.
        context.Response.ContentType = "application/x-protobuf";
    }
}

/// <summary>One span as the collector received it (ids in lower-case hex, as in <c>traceparent</c>).</summary>
internal sealed record OtlpSpan(string Scope, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind, ulong StartNanos, ulong EndNanos, IReadOnlyDictionary<string, object?> Attributes, int StatusCode)
{
    /// <summary>Gets the span's events (name and time), in the order sent.</summary>
    public IReadOnlyList<(string Name, ulong TimeNanos)> Events { get; init; } = [];

    public object? this[string attribute] => Attributes.GetValueOrDefault(attribute);
}

/// <summary>
/// Decodes an OTLP <c>ExportTraceServiceRequest</c> (opentelemetry/proto/collector/trace/v1, trace/v1/trace.proto) from
/// the protobuf wire format: only the fields a test asserts on; every other field is skipped by its wire type.
/// </summary>
internal static class OtlpTraceDecoder
{
    public static List<OtlpSpan> Decode(byte[] message)
    {
        var spans = new List<OtlpSpan>();
        foreach (var (field, resourceSpans) in Fields(message))
        {
            if (field == 1)
            {
                foreach (var (f, scopeSpans) in Fields(resourceSpans.Bytes))
                {
                    if (f == 2)
                    {
                        ReadScopeSpans(scopeSpans.Bytes, spans);
                    }
                }
            }
        }

        return spans;
    }

    private static void ReadScopeSpans(byte[] scopeSpans, List<OtlpSpan> spans)
    {
        var scope = string.Empty;
        foreach (var (field, value) in Fields(scopeSpans))
        {
            if (field == 1)
            {
                scope = Fields(value.Bytes).Where(f => f.Field == 1).Select(f => f.Value.Text).FirstOrDefault() ?? string.Empty;
            }
            else if (field == 2)
            {
                spans.Add(ReadSpan(scope, value.Bytes));
            }
        }
    }

    private static OtlpSpan ReadSpan(string scope, byte[] span)
    {
        string traceId = string.Empty, spanId = string.Empty, parent = string.Empty, name = string.Empty;
        int kind = 0, status = 0;
        ulong start = 0, end = 0;
        var attributes = new Dictionary<string, object?>();
        var events = new List<(string, ulong)>();
        foreach (var (field, value) in Fields(span))
        {
            switch (field)
            {
                case 1: traceId = Convert.ToHexStringLower(value.Bytes); break;
                case 2: spanId = Convert.ToHexStringLower(value.Bytes); break;
                case 4: parent = Convert.ToHexStringLower(value.Bytes); break;
                case 5: name = value.Text; break;
                case 6: kind = (int)value.Number; break;
                case 7: start = value.Number; break;
                case 8: end = value.Number; break;
                case 9:
                    var (key, any) = ReadKeyValue(value.Bytes);
                    attributes[key] = any;
                    break;
                case 11:
                    // Event: time_unix_nano 1 (fixed64), name 2.
                    var parts = Fields(value.Bytes);
                    events.Add((parts.Where(f => f.Field == 2).Select(f => f.Value.Text).FirstOrDefault() ?? string.Empty, parts.Where(f => f.Field == 1).Select(f => f.Value.Number).FirstOrDefault()));
                    break;
                case 15:
                    status = (int)(Fields(value.Bytes).Where(f => f.Field == 3).Select(f => f.Value.Number).FirstOrDefault());
                    break;
            }
        }

        return new OtlpSpan(scope, traceId, spanId, parent, name, kind, start, end, attributes, status) { Events = events };
    }

    private static (string Key, object? Value) ReadKeyValue(byte[] keyValue)
    {
        string key = string.Empty;
        object? result = null;
        foreach (var (field, value) in Fields(keyValue))
        {
            if (field == 1)
            {
                key = value.Text;
            }
            else if (field == 2)
            {
                // AnyValue: string 1, bool 2, int64 3, double 4.
                foreach (var (f, v) in Fields(value.Bytes))
                {
                    result = f switch
                    {
                        1 => v.Text,
                        2 => v.Number != 0,
                        3 => (long)v.Number,
                        4 => BitConverter.UInt64BitsToDouble(v.Number),
                        _ => result,
                    };
                }
            }
        }

        return (key, result);
    }

    /// <summary>The fields of a message, in order: a varint or fixed number, or the bytes of a length-delimited field.</summary>
    private static List<(int Field, WireValue Value)> Fields(byte[] message)
    {
        var fields = new List<(int, WireValue)>();
        var at = 0;
        while (at < message.Length)
        {
            var tag = Varint(message, ref at);
            var field = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    fields.Add((field, new WireValue(Varint(message, ref at), [])));
                    break;
                case 1:
                    fields.Add((field, new WireValue(BitConverter.ToUInt64(message, at), [])));
                    at += 8;
                    break;
                case 2:
                    var length = (int)Varint(message, ref at);
                    fields.Add((field, new WireValue(0, message[at..(at + length)])));
                    at += length;
                    break;
                case 5:
                    fields.Add((field, new WireValue(BitConverter.ToUInt32(message, at), [])));
                    at += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unsupported protobuf wire type in tag {tag}.");
            }
        }

        return fields;
    }

    private static ulong Varint(byte[] message, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }

    private readonly record struct WireValue(ulong Number, byte[] Bytes)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(Bytes);
    }
}
