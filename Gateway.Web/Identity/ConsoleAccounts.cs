using System.Security.Cryptography;
using Gateway.Core;
using Gateway.Core.Identity;
using Gateway.Web.Validation;
using Microsoft.AspNetCore.Identity;

namespace Gateway.Web.Identity;

/// <summary>
/// Console accounts: password checks and changes for local users, role assignment for everyone. Passwords are kept
/// only as ASP.NET Core Identity hashes (PBKDF2-HMAC-SHA512, salted, iterated).
/// </summary>
public sealed class ConsoleAccounts(IConsoleUserStore store, TimeProvider time)
{
    private static readonly PasswordHasher<ConsoleUser> Hasher = new();

    // Verified when the user name is unknown, so a wrong name costs as long as a wrong password. Made at the first
    // such sign-in, not when the class is first used: that is the bootstrap admin's creation at start, where one more
    // PBKDF2 run (0.1-0.25 s of CPU) delayed listening.
    private static readonly Lazy<string> DummyHash = new(() => Hasher.HashPassword(null!, "not a password of anyone"));

    /// <summary>The local user name of the bootstrap admin.</summary>
    public const string BootstrapUserName = "admin";

    /// <summary>Returns the enabled local user whose password matches, or null.</summary>
    public async Task<ConsoleUser?> VerifyAsync(string userName, string password, CancellationToken cancellationToken)
    {
        var user = await store.FindAsync(userName.Trim(), cancellationToken);
        if (user is not { Source: ConsoleUserSource.Local, PasswordHash: { } hash })
        {
            Hasher.VerifyHashedPassword(null!, DummyHash.Value, password);
            return null;
        }

        var result = Hasher.VerifyHashedPassword(user, hash, password);
        if (result == PasswordVerificationResult.Failed || !user.Enabled)
        {
            return null;
        }

        if (result == PasswordVerificationResult.SuccessRehashNeeded)
        {
            await store.SetPasswordAsync(user.Id, Hasher.HashPassword(user, password), user.MustChangePassword, cancellationToken);
        }

        await store.RecordSignInAsync(user.Id, time.GetUtcNow(), cancellationToken);
        return user;
    }

    /// <summary>Whether a console user of this name exists (of any source): what a refused sign-in may record of the name tried.</summary>
    public async Task<bool> IsKnownAsync(string userName, CancellationToken cancellationToken) =>
        await store.FindAsync(userName.Trim(), cancellationToken) is not null;

    /// <summary>Changes a local user's password; returns the user as now stored, or the errors by field.</summary>
    public async Task<(ConsoleUser? User, Dictionary<string, string[]> Errors)> ChangePasswordAsync(long id, PasswordChange change, CancellationToken cancellationToken)
    {
        var errors = new PasswordChangeValidator().Validate(change).ByField();
        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var user = await store.GetAsync(id, cancellationToken);
        if (user is not { Source: ConsoleUserSource.Local, PasswordHash: { } hash, Enabled: true }
            || Hasher.VerifyHashedPassword(user, hash, change.CurrentPassword) == PasswordVerificationResult.Failed)
        {
            return (null, new Dictionary<string, string[]> { ["currentPassword"] = ["The current password is not correct."] });
        }

        await store.SetPasswordAsync(id, Hasher.HashPassword(user, change.NewPassword), mustChange: false, cancellationToken);
        return (user with { MustChangePassword = false }, []);
    }

    /// <summary>Creates a local user with a one-time password (returned once; it must be changed at first sign-in).</summary>
    public async Task<(string? Password, Dictionary<string, string[]> Errors)> CreateLocalAsync(string? userName, string? displayName, IReadOnlyList<string> roles, CancellationToken cancellationToken, string? password = null)
    {
        if (!Names.IsValid(userName))
        {
            return (null, new Dictionary<string, string[]> { ["userName"] = [Names.Rule] });
        }

        if (displayName?.Length > 256)
        {
            return (null, new Dictionary<string, string[]> { ["displayName"] = ["Use at most 256 characters."] });
        }

        password ??= GeneratePassword();
        var created = await store.CreateAsync(
            new ConsoleUser
            {
                UserName = userName!,
                DisplayName = string.IsNullOrWhiteSpace(displayName) ? userName! : displayName.Trim(),
                Source = ConsoleUserSource.Local,
                AssignedRoles = roles,
                PasswordHash = Hasher.HashPassword(null!, password),
                MustChangePassword = true,
            },
            cancellationToken);
        return created ? (password, []) : (null, new Dictionary<string, string[]> { ["userName"] = [$"A user named '{userName}' already exists."] });
    }

    /// <summary>Gives a local user a new one-time password (returned once).</summary>
    public async Task<string?> ResetPasswordAsync(long id, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(id, cancellationToken) is not { Source: ConsoleUserSource.Local } user)
        {
            return null;
        }

        var password = GeneratePassword();
        await store.SetPasswordAsync(id, Hasher.HashPassword(user, password), mustChange: true, cancellationToken);
        return password;
    }

    /// <summary>Assigns roles; refuses to leave the gateway without an enabled admin.</summary>
    public async Task<string?> SetRolesAsync(long id, IReadOnlyList<string> roles, CancellationToken cancellationToken) =>
        Problem((await store.ChangeKeepingAnAdminAsync(id, roles, enabled: null, cancellationToken)).Outcome);

    /// <summary>Enables or disables a user (refusing to leave the gateway without an enabled admin); a disabled user's console session ends at its next request.</summary>
    public async Task<string?> SetEnabledAsync(long id, bool enabled, CancellationToken cancellationToken) =>
        Problem((await store.ChangeKeepingAnAdminAsync(id, roles: null, enabled, cancellationToken)).Outcome);

    /// <summary>A one-time password: 20 characters from an alphabet without look-alikes (about 114 bits).</summary>
    public static string GeneratePassword() =>
        RandomNumberGenerator.GetString("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 20);

    private static string? Problem(AdminKeepingChange change) => change switch
    {
        AdminKeepingChange.Done => null,
        AdminKeepingChange.LastAdmin => "This is the only admin: make someone else an admin first.",
        _ => "No such user.",
    };
}
