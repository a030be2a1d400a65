using Advisor.Server.Hosting;

return await ServerProgram.RunAsync(args);
