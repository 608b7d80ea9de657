namespace Gateway.Core.Pipeline;

/// <summary>How refusals are worded.</summary>
public sealed class PolicyMessages
{
    /// <summary>Gets or sets a value indicating whether a blocked agent is told the rule's name (default) or only that a policy blocked it.</summary>
    public bool ShowRuleNames { get; set; } = true;
}
