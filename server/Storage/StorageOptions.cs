using System.ComponentModel.DataAnnotations;

namespace Advisor.Server.Storage;

/// <summary>Where and how the server stores its data (configuration section <c>Storage</c>).</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary><c>sqlite</c> (the embedded default) or <c>postgres</c>.</summary>
    [Required]
    [RegularExpression("^(sqlite|postgres)$", ErrorMessage = "Storage:Provider must be 'sqlite' or 'postgres'.")]
    public string Provider { get; set; } = "sqlite";

    /// <summary>SQLite file; defaults to advisor.db under the user's local data directory.</summary>
    public string Path { get; set; } = DefaultPath;

    /// <summary>PostgreSQL connection string, when <see cref="Provider"/> is <c>postgres</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// SQLite <c>synchronous</c> level: NORMAL survives a crash of the process (kill -9) in WAL mode;
    /// FULL also survives a power cut, at the cost of an fsync per commit.
    /// </summary>
    [RegularExpression("^(NORMAL|FULL)$", ErrorMessage = "Storage:Synchronous must be NORMAL or FULL.")]
    public string Synchronous { get; set; } = "NORMAL";

    /// <summary>
    /// How long a write waits for a lock held by another process on the same file before failing (UNAVAILABLE), in
    /// milliseconds; writes inside one server queue on the store's write gate instead.
    /// </summary>
    [Range(0, 600_000)]
    public int BusyTimeoutMs { get; set; } = 5000;

    public static string DefaultPath => System.IO.Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create) is { Length: > 0 } dir
            ? dir
            : System.IO.Path.GetTempPath(),
        "advisor",
        "advisor.db");
}
