using System.Globalization;
using System.Reflection;

namespace Advisor.Server.Storage;

/// <summary>One numbered schema change: <c>NNN_name.sql</c> embedded in the server's assembly.</summary>
public sealed record Migration(int Version, string Name, string Sql);

/// <summary>
/// Reads the numbered SQL files a store embeds under its Migrations folder. Both stores number
/// their files the same way, so the order (by the number before the first underscore) is decided
/// here once rather than by each migrator.
/// </summary>
public static class EmbeddedMigrations
{
    public static IReadOnlyList<Migration> Read(Assembly assembly, string resourcePrefix) =>
        assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(resourcePrefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n =>
            {
                var name = n[resourcePrefix.Length..^4];
                var version = int.Parse(name.AsSpan(0, name.IndexOf('_', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return new Migration(version, name, reader.ReadToEnd());
            })
            .OrderBy(m => m.Version)
            .ToList();
}
