using Advisor.Bot.Hosting;

return await BotProgram.RunAsync(args);
