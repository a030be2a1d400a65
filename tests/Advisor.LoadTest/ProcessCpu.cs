using System.Diagnostics;
using System.Globalization;

namespace Advisor.LoadTest;

/// <summary>
/// CPU time used by a process, for "CPU per call": on a shared machine, throughput and latency move with
/// other people's work, but the CPU a call costs the server does not, so before/after comparisons use it.
/// </summary>
public static class ProcessCpu
{
    /// <summary>Clock ticks per second of /proc/&lt;pid&gt;/stat times (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    /// <summary>User plus system CPU time of <paramref name="pid"/>, or null where /proc is not available.</summary>
    public static TimeSpan? Of(int pid)
    {
        if (pid == Environment.ProcessId)
        {
            return Process.GetCurrentProcess().TotalProcessorTime;
        }

        var path = $"/proc/{pid}/stat";
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        // Fields 14 (utime) and 15 (stime) of the whole line are 12 and 13 after the name.
        return TimeSpan.FromSeconds((long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond);
    }

    /// <summary>A CPU reading of one process, taken at the start of a measured run.</summary>
    public readonly record struct Reading(int Pid, TimeSpan? Start)
    {
        public static Reading Take(int pid) => new(pid, Of(pid));

        /// <summary>Microseconds of CPU per call since the reading, or null when unknown.</summary>
        public double? PerCallUs(long calls) => Used() is { } used && calls > 0 ? used.TotalMicroseconds / calls : null;

        /// <summary>CPU time used since the reading, or null when unknown.</summary>
        public TimeSpan? Used() => Start is { } start && Of(Pid) is { } end ? end - start : null;
    }
}
