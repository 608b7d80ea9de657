using System.Security.Cryptography;
using System.Text;
using Gateway.Core.Catalog;
using Gateway.Core.Guardrails;
using Gateway.Core.Pipeline;

namespace Gateway.Tests.Core.Pipeline;

/// <summary>A result of the test protocol: a text, and whether it is a tool-level error.</summary>
internal sealed record TestResult(string Text, bool IsError = false);

/// <summary>
/// The pipeline's port for a protocol of strings: tools are their definitions, results are texts. Not a mock of
/// anything under test; it is what a host writes, answering in-process instead of over a network.
/// </summary>
internal sealed class TestForwarder(NamespacedCatalog<string> tools, NamespacedCatalog<string>? offline = null) : IToolCallForwarder<string, TestResult>
{
    private int _forwarded;

    /// <summary>Gets what the "upstream" does with a forwarded call; by default it answers with the tool's name.</summary>
    public Func<CatalogEntry<string>, CancellationToken, ValueTask<TestResult>> Upstream { get; init; } =
        (entry, _) => ValueTask.FromResult(new TestResult("answer of " + entry.OriginalName));

    /// <summary>Gets how many calls reached the upstream.</summary>
    public int Forwarded => Volatile.Read(ref _forwarded);

    public NamespacedCatalog<string> Tools => tools;

    public NamespacedCatalog<string> OfflineTools => offline ?? NamespacedCatalog<string>.Empty;

    public CallGuard<TestResult>? Guard => null;

    public ValueTask<TestResult> ForwardAsync(CatalogEntry<string> entry, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _forwarded);
        return Upstream(entry, cancellationToken);
    }

    public bool IsToolError(TestResult result) => result.IsError;

    public string? ResultSha256(TestResult result) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(result.Text)));

    public string DefinitionSha256(string tool) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(tool)));
}
