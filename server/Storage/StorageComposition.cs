using Advisor.Server.Storage.Postgres;
using Advisor.Server.Storage.Sqlite;

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

        builder.Services.AddSingleton<BatchedClassificationLog>();
        builder.Services.AddSingleton<IClassificationLog>(sp => sp.GetRequiredService<BatchedClassificationLog>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<BatchedClassificationLog>());
        return builder;
    }

    private static void AddSqlite(IServiceCollection services)
    {
        services.AddSingleton<SqliteDatabase>();
        services.AddSingleton<IStoreMigrator, SqliteMigrator>();
        services.AddSingleton<IClassificationLogWriter, SqliteClassificationLogWriter>();
        services.AddSingleton<IFeedbackStore, SqliteFeedbackStore>();
        services.AddSingleton<IAuditLog, SqliteAuditLog>();
        services.AddSingleton<IRuleSetStore, SqliteRuleSetStore>();
        services.AddSingleton<IApiKeyStore, SqliteApiKeyStore>();
        services.AddSingleton<IKnowledgeVersionStore, SqliteKnowledgeVersionStore>();
        services.AddSingleton<IStoreHealth, SqliteStoreHealth>();
        services.AddSingleton<IBuyerStore, SqliteBuyerStore>();
    }

    private static void AddPostgres(IServiceCollection services)
    {
        services.AddSingleton<PostgresDatabase>();
        services.AddSingleton<IStoreMigrator, PostgresMigrator>();
        services.AddSingleton<IClassificationLogWriter, PostgresClassificationLogWriter>();
        services.AddSingleton<IFeedbackStore, PostgresFeedbackStore>();
        services.AddSingleton<IAuditLog, PostgresAuditLog>();
        services.AddSingleton<IRuleSetStore, PostgresRuleSetStore>();
        services.AddSingleton<IApiKeyStore, PostgresApiKeyStore>();
        services.AddSingleton<IKnowledgeVersionStore, PostgresKnowledgeVersionStore>();
        services.AddSingleton<IStoreHealth, PostgresStoreHealth>();
        services.AddSingleton<IBuyerStore, PostgresBuyerStore>();
    }
}
