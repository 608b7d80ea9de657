namespace Gateway.Core.Policy;

/// <summary>Supplies the current compiled policy snapshot.</summary>
public interface IPolicySource
{
    /// <summary>Gets the current snapshot; swapped whole when rules change.</summary>
    PolicyEngine Current { get; }
}

/// <summary>A fixed snapshot (tests, and the host before rules are loaded).</summary>
public sealed class StaticPolicySource(PolicyEngine engine) : IPolicySource
{
    /// <inheritdoc/>
    public PolicyEngine Current { get; } = engine;
}
