using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/Advisor.Benchmarks -- --filter '*'
// dotnet run -c Release --project tests/Advisor.Benchmarks -- registry [interactions] [buyers]   (measured run, see RegistryRun)
if (args.Length > 0 && args[0] == "registry")
{
    return await Advisor.Benchmarks.RegistryRun.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Advisor.Benchmarks.ClassificationBenchmarks).Assembly).Run(args);
return 0;
