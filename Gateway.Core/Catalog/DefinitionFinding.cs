namespace Gateway.Core.Catalog;

/// <summary>What a definition scan found: the signs of a poisoned tool definition (tool poisoning).</summary>
public enum FindingKind
{
    /// <summary>Markup that addresses the model out of band: <c>&lt;IMPORTANT&gt;</c>, <c>&lt;system&gt;</c>, <c>[INST]</c>, HTML comments.</summary>
    HiddenMarkup,

    /// <summary>Characters a human reviewer cannot see: Unicode tags, zero-width, bidi overrides, controls.</summary>
    InvisibleCharacter,

    /// <summary>A name of another server's tool (shadowing: instructions that change how another tool is used).</summary>
    CrossServerReference,

    /// <summary>A path to credentials or secrets: <c>~/.ssh</c>, <c>id_rsa</c>, <c>.aws/credentials</c>, <c>.env</c>, <c>/etc/passwd</c>.</summary>
    CredentialPath,

    /// <summary>A long base64 or hex run: a payload a reviewer cannot read.</summary>
    EncodedBlob,

    /// <summary>Text addressed to the model rather than describing the tool: "ignore previous instructions", "do not tell the user".</summary>
    ModelInstruction,

    /// <summary>The definition was larger than the scan budget; the rest was not read.</summary>
    Unscanned,
}

/// <summary>
/// One finding in a tool definition: the field (a path such as <c>description</c> or
/// <c>inputSchema.properties.path.description</c>), where the offending text starts and how long it is in that
/// field (UTF-16 units), and a short excerpt to show, with invisible characters made visible (<c>⟨U+200B⟩</c>).
/// </summary>
public sealed record DefinitionFinding(FindingKind Kind, string Field, int Start, int Length, string Detail, FindingExcerpt Excerpt);

/// <summary>The offending text with a little context on each side, every part bounded and safe to show.</summary>
public sealed record FindingExcerpt(string Before, string Match, string After)
{
    public override string ToString() => Before + "[" + Match + "]" + After;
}
