using System.Text.RegularExpressions;
using Gateway.Data;
using Gateway.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design.Internal;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Scaffolding;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Data;

/// <summary>
/// The gateway runs on a compiled model per engine (<c>Gateway.Data/CompiledModels</c>) instead of building its model
/// at start. A compiled model is generated code: these fail when the configuration classes changed and it was not
/// regenerated (<c>Gateway.Data/add-migration.sh NAME</c>, or <c>--model-only</c> for a change without a migration).
/// </summary>
public sealed partial class CompiledModelTests
{
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public void TheCompiledModel_IsWhatTheConfigurationGeneratesToday(DatabaseProvider provider)
    {
        using var context = Context(provider, compiledModel: false);
        var generated = Regenerate(context, provider)
            .Where(f => f.Path != "GatewayDbContextAssemblyAttributes.cs")
            .ToDictionary(f => f.Path, f => Normalize(f.Code));

        var folder = Path.Combine(Repository.Root, "Gateway.Data", "CompiledModels", provider.ToString());
        var committed = Directory.GetFiles(folder, "*.cs")
            .ToDictionary(f => Path.GetFileName(f), f => Normalize(File.ReadAllText(f)));

        var stale = $"Gateway.Data/CompiledModels/{provider} is not what the model generates now: run Gateway.Data/add-migration.sh --model-only (or with the migration's name).";
        Assert.True(generated.Keys.Order().SequenceEqual(committed.Keys.Order()), $"{stale} Files differ: {string.Join(", ", generated.Keys.Except(committed.Keys).Concat(committed.Keys.Except(generated.Keys)))}");
        Assert.All(generated, f => Assert.True(f.Value == committed[f.Key], $"{stale} {f.Key} differs."));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public void TheRuntime_UsesTheEnginesCompiledModel(DatabaseProvider provider)
    {
        using var context = Context(provider, compiledModel: true);
        var expected = provider == DatabaseProvider.Postgres
            ? typeof(Gateway.Data.CompiledModels.Postgres.GatewayDbContextModel)
            : typeof(Gateway.Data.CompiledModels.Sqlite.GatewayDbContextModel);

        Assert.IsType(expected, context.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()!.Model);
        Assert.IsAssignableFrom<RuntimeModel>(context.Model);
    }

    /// <summary>What <c>dotnet ef dbcontext optimize</c> writes, from the same design-time services and model.</summary>
    private static IReadOnlyCollection<ScaffoldedFile> Regenerate(GatewayDbContext context, DatabaseProvider provider)
    {
        // The tools' own entry point to the provider's design-time services (internal to EF Core's design package).
#pragma warning disable EF1001
        var services = new DesignTimeServicesBuilder(typeof(GatewayDbContext).Assembly, typeof(GatewayDbContext).Assembly, new OperationReporter(null), [])
            .Build(context);
#pragma warning restore EF1001
        var options = new CompiledModelCodeGenerationOptions
        {
            ContextType = typeof(GatewayDbContext),
            ModelNamespace = $"Gateway.Data.CompiledModels.{provider}",
            Language = "C#",
            UseNullableReferenceTypes = true,
            ForNativeAot = true,
        };
        return services.GetRequiredService<ICompiledModelCodeGeneratorSelector>().Select(options)
            .GenerateModel(context.GetService<IDesignTimeModel>().Model, options);
    }

    private static GatewayDbContext Context(DatabaseProvider provider, bool compiledModel)
    {
        // No connection is opened: the model is built from the provider alone.
        var database = provider == DatabaseProvider.Postgres
            ? GatewayDatabase.Postgres("Host=127.0.0.1;Database=model-only")
            : GatewayDatabase.Sqlite("Data Source=:memory:");
        var options = new DbContextOptionsBuilder<GatewayDbContext>();
        database.Configure(options, compiledModel);
        return new GatewayDbContext(options.Options);
    }

    /// <summary>The text without what differs between two generations of one model: its random id, the BOM, line ends.</summary>
    private static string Normalize(string code) =>
        ModelId().Replace(code.TrimStart('\uFEFF').ReplaceLineEndings("\n"), "modelId: new Guid()");

    [GeneratedRegex("""modelId: new Guid\("[0-9a-f-]{36}"\)""")]
    private static partial Regex ModelId();
}
