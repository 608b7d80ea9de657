using FluentValidation;

namespace Gateway.Core.Identity;

/// <summary>A console user's password change, as the form sends it.</summary>
public sealed class PasswordChange
{
    public string CurrentPassword { get; set; } = string.Empty;

    public string NewPassword { get; set; } = string.Empty;

    public string ConfirmPassword { get; set; } = string.Empty;
}

/// <summary>
/// Length over composition rules (NIST SP 800-63B): at least 12 characters, not the current password, confirmed.
/// </summary>
public sealed class PasswordChangeValidator : AbstractValidator<PasswordChange>
{
    public const int MinimumLength = 12;

    /// <summary>Initializes a new instance of the <see cref="PasswordChangeValidator"/> class.</summary>
    public PasswordChangeValidator()
    {
        RuleFor(p => p.CurrentPassword).NotEmpty().WithMessage("Enter your current password.");
        RuleFor(p => p.NewPassword)
            .MinimumLength(MinimumLength).WithMessage($"Use at least {MinimumLength} characters.")
            .MaximumLength(256).WithMessage("Use at most 256 characters.")
            .NotEqual(p => p.CurrentPassword).WithMessage("Choose a password different from the current one.");
        RuleFor(p => p.ConfirmPassword).Equal(p => p.NewPassword).WithMessage("The two passwords differ.");
    }
}
