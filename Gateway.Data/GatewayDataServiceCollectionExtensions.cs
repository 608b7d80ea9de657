using Gateway.Core.Agents;
using Gateway.Core.Approvals;
using Gateway.Core.Audit;
using Gateway.Core.Catalog;
using Gateway.Core.Identity;
using Gateway.Core.Policy;
using Gateway.Core.Provisioning;
using Gateway.Core.Servers;
using Gateway.Data;
using Gateway.Data.Postgres;
using Gateway.Data.Sqlite;
using Gateway.Data.Stores;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the gateway's persistence.</summary>
public static class GatewayDataServiceCollectionExtensions
{
    /// <summary>Adds a SQLite database; see <see cref="AddGatewayData(IServiceCollection, GatewayDatabase, AuditWriteOptions?, TimeSpan?)"/>.</summary>
    public static IServiceCollection AddGatewayData(this IServiceCollection services, string sqliteConnectionString, AuditWriteOptions? audit = null, TimeSpan? changePoll = null) =>
        services.AddGatewayData(GatewayDatabase.Sqlite(sqliteConnectionString), audit, changePoll);

    /// <summary>Adds the database (SQLite or PostgreSQL), migrations at startup, the stores and the audit writer.</summary>
    /// <param name="services">The services.</param>
    /// <param name="database">The database: a SQLite connection string with an absolute path, or a PostgreSQL one.</param>
    /// <param name="audit">How the audit writer makes entries durable; the defaults when null.</param>
    /// <param name="changePoll">How often a SQLite file is looked at for changes made through other connections (1 s when null); PostgreSQL pushes them.</param>
    public static IServiceCollection AddGatewayData(this IServiceCollection services, GatewayDatabase database, AuditWriteOptions? audit = null, TimeSpan? changePoll = null)
    {
        services.TryAddSingleton(TimeProvider.System);
        var instance = GatewayInstance.New();
        services.TryAddSingleton(instance);
        if (database.Provider == DatabaseProvider.Postgres)
        {
            // Every connection of this process names it, so other instances can see which instances are alive.
            database = database.WithApplicationName(UnfinishedCallRecovery.ApplicationNamePrefix + instance.Id);
        }

        services.AddSingleton(database);

        // A factory, not a scoped context: the stores are used from singletons (upstream manager, auth snapshot).
        services.AddPooledDbContextFactory<GatewayDbContext>(o => database.Configure(o));

        // The initializer must be the first hosted service: the others read the database when they start.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, GatewayDatabaseInitializer>());
        services.Insert(1, ServiceDescriptor.Singleton<IHostedService, LegacyAuditChainer>());
        services.Insert(2, ServiceDescriptor.Singleton<IHostedService, UnfinishedCallRecovery>());

        // The stores an admin change goes through join its transaction while it runs (EfAdminChangeTransactions).
        services.AddSingleton<EfAdminChangeTransactions>();
        services.AddSingleton<Gateway.Core.Audit.Admin.IAdminChangeTransactions>(sp => sp.GetRequiredService<EfAdminChangeTransactions>());

        // A context per DI scope, for OpenIddict's stores: the pooled factory's, or one that joins the admin change the
        // scope is made in (the consents users give and admins withdraw commit with their entries).
        services.AddScoped(sp => sp.GetRequiredService<EfAdminChangeTransactions>().CreateDbContext());
        services.AddSingleton<IServerStore>(JoiningAdminChanges<EfServerStore>);
        services.AddSingleton<IAgentStore>(JoiningAdminChanges<EfAgentStore>);
        services.AddSingleton<IProvisioningStore, EfProvisioningStore>();
        services.AddSingleton<IPolicyStore>(JoiningAdminChanges<EfPolicyStore>);
        services.AddSingleton<IApprovalStore>(JoiningAdminChanges<EfApprovalStore>);
        services.AddSingleton<IApprovalHistory, EfApprovalHistory>();
        services.AddSingleton<IConsoleUserStore>(JoiningAdminChanges<EfConsoleUserStore>);
        services.AddSingleton<IAuditStatistics, EfAuditStatistics>();
        services.AddSingleton<IToolPinStore>(JoiningAdminChanges<EfToolPinStore>);
        services.AddSingleton<IAuditCheckpointStore, EfAuditCheckpointStore>();
        services.AddSingleton<Gateway.Core.Limits.IUsageCounterStore, EfUsageCounterStore>();
        services.AddSingleton<Gateway.Core.Limits.IToolLimitRuleStore>(JoiningAdminChanges<EfToolLimitRuleStore>);
        services.AddSingleton<Gateway.Core.VirtualServers.IVirtualServerStore>(JoiningAdminChanges<EfVirtualServerStore>);
        services.AddSingleton<EfMcpSessionStore>();
        services.AddSingleton<Gateway.Core.Sessions.IMcpSessionStore>(sp => sp.GetRequiredService<EfMcpSessionStore>());
        services.AddSingleton<Gateway.Core.Guardrails.ISessionFactsStore>(sp => sp.GetRequiredService<EfMcpSessionStore>());
        services.AddSingleton<Gateway.Core.Sessions.ISingleUseLedger, EfSingleUseLedger>();
        services.AddSingleton<Gateway.Core.Sessions.IFollowedTaskStore, EfFollowedTaskStore>();
        services.AddSingleton<Gateway.Core.Sessions.IInstanceMailbox, EfInstanceMailbox>();
        services.AddSingleton<AuditBrowser>();
        services.AddSingleton<IAuditTail, EfAuditTail>();
        services.AddSingleton<Gateway.Core.Siem.ISiemCursorStore, EfSiemCursorStore>();
        services.AddSingleton<IAuditWitnessStateStore, EfAuditWitnessStateStore>();
        services.AddSingleton<Gateway.Core.Credentials.IUserUpstreamTokenStore, EfUserUpstreamTokenStore>();
        services.AddSingleton<Gateway.Core.Identity.IRevokedUserStore>(JoiningAdminChanges<EfRevokedUserStore>);
        if (database.Provider == DatabaseProvider.Postgres)
        {
            services.AddSingleton(sp => new PostgresChangeMonitor(database.ConnectionString, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<PostgresChangeMonitor>>()));
            services.AddSingleton<IDatabaseChanges>(sp => sp.GetRequiredService<PostgresChangeMonitor>());
            services.AddSingleton<IDatabaseCommits>(sp => sp.GetRequiredService<PostgresChangeMonitor>());
            services.AddHostedService(sp => sp.GetRequiredService<PostgresChangeMonitor>());
            services.AddSingleton<IAuditAppender>(_ => new PostgresAuditAppender(database.ConnectionString));
            services.AddSingleton<Gateway.Core.Credentials.ICredentialRefreshLock>(_ => new PostgresCredentialRefreshLock(database.ConnectionString));
            services.AddSingleton<ISessionFactsReader>(_ => new PostgresSessionFactsReader(database.ConnectionString));
        }
        else
        {
            services.AddSingleton(sp => new SqliteChangeMonitor(database.ConnectionString, changePoll ?? TimeSpan.FromSeconds(1), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<SqliteChangeMonitor>>()));
            services.AddSingleton<IDatabaseChanges>(sp => sp.GetRequiredService<SqliteChangeMonitor>());
            services.AddSingleton<IDatabaseCommits>(sp => sp.GetRequiredService<SqliteChangeMonitor>());
            services.AddHostedService(sp => sp.GetRequiredService<SqliteChangeMonitor>());
            services.AddSingleton<IAuditAppender>(sp => new SqliteAuditAppender(database.ConnectionString, sp.GetRequiredService<ILogger<SqliteWalCheckpointer>>()));
            services.AddSingleton<Gateway.Core.Credentials.ICredentialRefreshLock>(_ => new ProcessCredentialRefreshLock(database.ConnectionString));
            services.AddSingleton<ISessionFactsReader>(_ => new SqliteSessionFactsReader(database.ConnectionString));
        }

        services.AddSingleton(audit ?? new AuditWriteOptions());
        services.AddSingleton<BatchingAuditSink>();
        services.AddSingleton<IAuditSink>(sp => sp.GetRequiredService<BatchingAuditSink>());
        services.AddSingleton<IAuditFlusher>(sp => sp.GetRequiredService<BatchingAuditSink>());
        services.AddHostedService(sp => sp.GetRequiredService<BatchingAuditSink>());
        return services;
    }

    /// <summary>A store whose contexts join the admin change that is running, if any (its factory is <see cref="EfAdminChangeTransactions"/>).</summary>
    private static T JoiningAdminChanges<T>(IServiceProvider services)
        where T : class =>
        ActivatorUtilities.CreateInstance<T>(services, services.GetRequiredService<EfAdminChangeTransactions>());
}
