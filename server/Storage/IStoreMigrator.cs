namespace Advisor.Server.Storage;

/// <summary>Brings the database schema up to date; safe to run from several servers at once.</summary>
public interface IStoreMigrator
{
    /// <summary>Applies pending migrations; returns how many were applied.</summary>
    Task<int> MigrateAsync(CancellationToken cancellationToken);
}
