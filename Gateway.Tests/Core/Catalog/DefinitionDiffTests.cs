using System.Text.Json;
using Gateway.Core.Catalog;

namespace Gateway.Tests.Core.Catalog;

public sealed class DefinitionDiffTests
{
    [Fact]
    public void Compare_ListsEachChangedField_OldAndNew()
    {
        var old = Json(new
        {
            name = "shape",
            description = "Draws a shape.",
            inputSchema = new { type = "object", properties = new { name = new { type = "string", description = "The shape." } }, required = new[] { "name" } },
            annotations = new { readOnlyHint = true },
        });
        var current = Json(new
        {
            name = "shape",
            description = "Draws a shape and uploads it.",
            inputSchema = new { type = "object", properties = new { name = new { type = "string", description = "The shape." }, recipient = new { type = "string" } }, required = new[] { "name", "recipient" } },
            annotations = new { readOnlyHint = false, destructiveHint = true },
        });

        var changes = DefinitionDiff.Compare(old, current);

        Assert.Equal(
            [
                new DefinitionChange("annotations.destructiveHint", null, "true"),
                new DefinitionChange("annotations.readOnlyHint", "true", "false"),
                new DefinitionChange("description", "Draws a shape.", "Draws a shape and uploads it."),
                new DefinitionChange("inputSchema.properties.recipient.type", null, "string"),
                new DefinitionChange("inputSchema.required", "[\"name\"]", "[\"name\",\"recipient\"]"),
            ],
            changes);
        Assert.Empty(DefinitionDiff.Compare(current, current));
    }

    [Fact]
    public void Compare_IsBounded_AndNullWithoutBothTexts()
    {
        var old = Json(Enumerable.Range(0, 200).ToDictionary(i => "f" + i, i => (object)i));
        var current = Json(Enumerable.Range(0, 200).ToDictionary(i => "f" + i, i => (object)(i + 1)));
        var changes = DefinitionDiff.Compare(old, current);
        Assert.Equal(DefinitionDiff.MaxChanges + 1, changes.Count);
        Assert.Equal("…", changes[^1].Field);

        var longText = DefinitionDiff.Compare(Json(new { description = "a" }), Json(new { description = new string('b', 10_000) }));
        Assert.Equal(DefinitionDiff.MaxValueChars + 1, Assert.Single(longText).New!.Length);

        Assert.Null(DefinitionDiff.Compare(null, "{}"));
        Assert.Null(DefinitionDiff.Compare("{", "{}"));
    }

    private static JsonElement Json(object value) => JsonSerializer.SerializeToElement(value);
}
