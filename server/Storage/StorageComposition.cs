using Advisor.Server.Storage.Postgres;
using Advisor.Server.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Advisor.Server.Storage;

/// <summary>Registers the store implementations of the configured provider (Storage:Provider).</summary>
public static class StorageComposition
{
    public static WebApplicationBuilder AddAdvisorStorage(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<StorageOptions>()
            .Bind(builder.Configuration.GetSection(StorageOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.Provider != "postgres" || !string.IsNullOrWhiteSpace(o.ConnectionString), "Storage:ConnectionString is required when Storage:Provider is postgres.")
            .ValidateOnStart();

        var provider = builder.Configuration[$"{StorageOptions.Section}:Provider"] ?? "sqlite";
        if (string.Equals(provider, "postgres", StringComparison.OrdinalIgnoreCase))
        {
            AddPostgres(builder.Services);
        }
        else
        {
            AddSqlite(builder.Services);
        }

        // The stores whose SQL both providers share (SqlStores.cs).
        builder.Services.TryAddSingleton<IClassificationLogWriter, SqlClassificationLogWriter>();
        builder.Services.AddSingleton<IFeedbackStore, SqlFeedbackStore>();
        builder.Services.AddSingleton<IAuditLog, SqlAuditLog>();
        builder.Services.AddSingleton<IRuleSetStore, SqlRuleSetStore>();
        builder.Services.AddSingleton<IApiKeyStore, SqlApiKeyStore>();
        builder.Services.AddSingleton<IKnowledgeVersionStore, SqlKnowledgeVersionStore>();
        builder.Services.AddSingleton<IStoreHealth, SqlStoreHealth>();
        builder.Services.AddSingleton<BatchedClassificationLog>();
        builder.Services.AddSingleton<IClassificationLog>(sp => sp.GetRequiredService<BatchedClassificationLog>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<BatchedClassificationLog>());
        return builder;
    }

    private static void AddSqlite(IServiceCollection services)
    {
        services.AddSingleton<SqliteDatabase>();
        services.AddSingleton<ISqlDatabase>(sp => sp.GetRequiredService<SqliteDatabase>());
        services.AddSingleton<IStoreMigrator, SqliteMigrator>();
        services.AddSingleton<IBuyerStore, SqliteBuyerStore>();
        services.AddSingleton<IClassificationLogWriter, SqliteClassificationLogWriter>();
    }

    private static void AddPostgres(IServiceCollection services)
    {
        services.AddSingleton<PostgresDatabase>();
        services.AddSingleton<ISqlDatabase>(sp => sp.GetRequiredService<PostgresDatabase>());
        services.AddSingleton<IStoreMigrator, PostgresMigrator>();
        services.AddSingleton<IBuyerStore, PostgresBuyerStore>();
    }
}
