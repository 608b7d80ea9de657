using System.Globalization;
using System.Text;
using Gateway.Core.Audit;

namespace Gateway.Web.Audit.Witnesses;

/// <summary>
/// A folder on other storage: one file per checkpoint (<c>checkpoint-{entry:D20}-{key hash}.note</c>), written once
/// (to a temporary name, then moved into place without overwriting) and made read-only.
/// </summary>
public sealed class DirectoryWitness(string path) : IAuditWitness
{
    private const string Pattern = "checkpoint-*.note";
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public string Name => "directory " + path;

    public async Task PushAsync(long sequence, string note, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(path);
        var target = Path.Combine(path, string.Create(CultureInfo.InvariantCulture, $"checkpoint-{sequence:D20}-{KeyTag(note)}.note"));
        if (File.Exists(target))
        {
            Same(target, sequence, await File.ReadAllTextAsync(target, cancellationToken), note);
            return;
        }

        var temporary = Path.Combine(path, $".{Guid.NewGuid():N}.tmp");
        await File.WriteAllTextAsync(temporary, note, Utf8, cancellationToken);
        try
        {
            File.Move(temporary, target, overwrite: false);
        }
        catch (IOException) when (File.Exists(target))
        {
            File.Delete(temporary);
            Same(target, sequence, await File.ReadAllTextAsync(target, cancellationToken), note);
            return;
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
    }

    public async Task<IReadOnlyList<string>> ReadAsync(CancellationToken cancellationToken)
    {
        var notes = new List<string>();
        if (!Directory.Exists(path))
        {
            throw new DirectoryNotFoundException($"The witness directory {path} does not exist.");
        }

        foreach (var file in Directory.EnumerateFiles(path, Pattern).Order(StringComparer.Ordinal))
        {
            // A note is a few hundred bytes; a larger file is not one, and is not read whole.
            if (new FileInfo(file).Length > AuditCheckpointNote.MaxLength)
            {
                throw new FormatException($"{file} is larger than a checkpoint note can be");
            }

            notes.Add(await File.ReadAllTextAsync(file, cancellationToken));
        }

        return notes;
    }

    // The same checkpoint pushed twice (a retry after a lost answer) is fine; another one for that entry is not.
    private static void Same(string target, long sequence, string kept, string note)
    {
        if (!string.Equals(Body(kept), Body(note), StringComparison.Ordinal))
        {
            throw new AuditWitnessConflictException($"it already keeps a different checkpoint for entry {sequence} ({target}): the chain was rewritten, or an older backup restored");
        }
    }

    // The time line and the signature differ between two signings of one head; origin, size and hash do not.
    private static string Body(string note) => string.Join('\n', note.Split('\n').Take(3));

    private static string KeyTag(string note)
    {
        var signature = note[(note.LastIndexOf('\n', note.Length - 2) + 1)..].Trim();
        var bytes = Convert.FromBase64String(signature[(signature.LastIndexOf(' ') + 1)..]);
        return Convert.ToHexStringLower(bytes.AsSpan(0, 4));
    }
}
