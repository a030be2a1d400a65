using System.Data.Common;

namespace Advisor.Server.Storage;

/// <summary>
/// What the stores written once for both providers (<see cref="SqlStores"/>) need from a database: a read on an open
/// connection, and a write in one transaction whose result is returned only after commit. SQLite and PostgreSQL each
/// implement it next to their own richer API, which the buyer store and the migrators keep using.
/// </summary>
public interface ISqlDatabase
{
    /// <summary>The few places where the shared SQL has to differ between the providers.</summary>
    SqlDialect Dialect { get; }

    Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken);

    Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken);

    /// <summary>Whether <paramref name="exception"/> says a unique key refused a row (a race another writer won).</summary>
    bool IsUniqueViolation(Exception exception);
}

/// <param name="RuleSetColumns">
/// The rule_sets columns as <c>RuleSetRow</c> reads them. PostgreSQL's rule_count is a 32-bit integer and is cast to
/// 64 bits; SQLite's is 64-bit already, and a CAST there has no declared type, so a query that finds no rows reports
/// the column as a BLOB and Dapper cannot map it (an empty page once failed with INTERNAL).
/// </param>
/// <param name="ForUpdate">
/// Appended to a SELECT that reads a row the same transaction then changes: PostgreSQL locks the row so writers on
/// other servers take turns; SQLite has one writer at a time already and no such clause.
/// </param>
public sealed record SqlDialect(string RuleSetColumns, string ForUpdate);
