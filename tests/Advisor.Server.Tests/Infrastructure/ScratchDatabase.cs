using Microsoft.Data.Sqlite;

namespace Advisor.Server.Tests.Infrastructure;

/// <summary>
/// A SQLite file of the test's own in a fresh folder under the temp directory, removed with its WAL and
/// shared-memory files when the test is done.
/// </summary>
public sealed class ScratchDatabase : IDisposable
{
    /// <summary>The database file; its folder is created by whoever opens it first (the server or the test).</summary>
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "advisor-tests", Guid.NewGuid().ToString("N"), "advisor.db");

    public void Dispose()
    {
        // Pooled connections keep the file open; they must be closed before the folder can go.
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(System.IO.Path.GetDirectoryName(Path)!, recursive: true);
        }
        catch (IOException)
        {
            // Nothing was ever written, or a file is still held by a test that failed: the temp folder is the OS's to clean then.
        }
    }
}
