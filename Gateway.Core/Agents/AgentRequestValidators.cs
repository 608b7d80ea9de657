using FluentValidation;
using Gateway.Core.Grants;

namespace Gateway.Core.Agents;

/// <summary>Validates an agent's name and grants; reports every problem at once.</summary>
public sealed class AgentDefinitionValidator : AbstractValidator<(string? Name, IReadOnlyList<string>? Grants)>
{
    /// <summary>Initializes a new instance of the <see cref="AgentDefinitionValidator"/> class.</summary>
    /// <param name="requireName">Whether the name is validated (creation) or taken from the route (update).</param>
    public AgentDefinitionValidator(bool requireName = true)
    {
        if (requireName)
        {
            RuleFor(a => a.Name).Must(Names.IsValid).WithMessage(Names.Rule).OverridePropertyName("name");
        }

        RuleForEach(a => a.Grants)
            .Must(g => ToolGrant.TryParse(g, out _))
            .WithMessage((_, g) => $"Invalid grant '{g}'. {ToolGrant.Syntax}")
            .OverridePropertyName("grants");
    }
}
