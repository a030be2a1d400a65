using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/Advisor.Benchmarks -- --filter '*'
// dotnet run -c Release --project tests/Advisor.Benchmarks -- registry [interactions] [buyers] [chunk]   (measured run, see RegistryRun)
if (args.Length > 0 && args[0] == "registry")
{
    return await Advisor.Benchmarks.RegistryRun.RunAsync(args[1..]);
}

// dotnet run -c Release --project tests/Advisor.Benchmarks -- postgres-import "Host=...;Database=..." (a measured run, see PostgresImportRun)
if (args.Length > 0 && args[0] == "postgres-import")
{
    return await Advisor.Benchmarks.PostgresImportRun.RunAsync(args);
}

// dotnet run -c Release --project tests/Advisor.Benchmarks -- classification-log [rounds] [batches] (CPU per log row, see ClassificationLogRun)
if (args.Length > 0 && args[0] == "classification-log")
{
    return await Advisor.Benchmarks.ClassificationLogRun.RunAsync(args[1..]);
}

// dotnet run -c Release --project tests/Advisor.Benchmarks -- description-cpu [basic|full] [seconds] (CPU per description, see DescriptionCpuRun)
if (args.Length > 0 && args[0] == "description-cpu")
{
    return Advisor.Benchmarks.DescriptionCpuRun.Run(args[1..]);
}

// dotnet run -c Release --project tests/Advisor.Benchmarks -- answer-cpu [basic|full] [seconds] (CPU per description's answer written, see AnswerCpuRun)
if (args.Length > 0 && args[0] == "answer-cpu")
{
    return Advisor.Benchmarks.AnswerCpuRun.Run(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Advisor.Benchmarks.ClassificationBenchmarks).Assembly).Run(args);
return 0;
