using System.Runtime.InteropServices;

namespace Advisor.Server.Hosting;

/// <summary>
/// Caps glibc's malloc arenas at two before the server starts its threads (what <c>MALLOC_ARENA_MAX=2</c> does).
/// Why: SQLite allocates its page caches and statements with malloc from whichever thread-pool thread runs the call,
/// glibc gives busy threads arenas of their own (up to eight per core), and memory freed in an arena stays in the
/// process. Measured after importing 300,000 interactions for 100,000 buyers (docs/benchmarks.md, "Registry"):
/// anonymous memory 403 MB with the default arenas, 254 MB with two, same import rate. A <c>MALLOC_ARENA_MAX</c>
/// set in the environment wins; other C libraries (musl) have no such call and are left alone.
/// </summary>
public static partial class MallocArenas
{
    /// <summary>glibc's <c>M_ARENA_MAX</c> option of <c>mallopt</c>.</summary>
    private const int ArenaMaxOption = -8;

    private const int Arenas = 2;

    public static void Limit()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null)
        {
            return;
        }

        try
        {
            _ = SetOption(ArenaMaxOption, Arenas);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc: nothing to cap.
        }
    }

    /// <summary>
    /// Hands the free memory of every arena back to the system (glibc's <c>malloc_trim</c>). Why: free() returns only the
    /// top of an arena, so the pages an import batch's SQLite cache and statements used stay resident after they are
    /// freed; trimming after each committed batch keeps the resident size at what is live. Costs well under a
    /// millisecond next to a batch of thousands of rows.
    /// </summary>
    public static void Trim()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            _ = TrimFree(0);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc: nothing to trim.
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int TrimFree(nuint pad);

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int SetOption(int option, int value);
}
