using Advisor.Server.Cli;
using Advisor.Server.Hosting;
using Advisor.Server.Storage;

namespace Advisor.Server.Tests.Buyers;

/// <summary>The <c>import</c> command against a real SQLite file, as a person runs it.</summary>
public sealed class ImportCommandTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "advisor-tests", Guid.NewGuid().ToString("N"));

    public ImportCommandTests() => Directory.CreateDirectory(_folder);

    private string Db => Path.Combine(_folder, "advisor.db");

    [Fact]
    public async Task Good_rows_are_stored_bad_rows_are_reported_with_reasons_and_a_rerun_finds_duplicates()
    {
        var file = Path.Combine(_folder, "interactions.csv");
        await File.WriteAllTextAsync(file, """
            buyer_id,buyer_external_id,buyer_name,type,occurred_at,amount,currency,channel,note,idempotency_key
            ,crm-1,Harbor Point Legal,agreement_signed,2025-02-01T09:00:00Z,18000,EUR,meeting,"Signed, with a ""quoted"" word",k1
            ,crm-1,,consultation,2025-03-10T14:00:00Z,,,video,,k2
            ,crm-2,Lindqvist Bakery,purchase,yesterday,12,EUR,web,,k3
            ,crm-2,Lindqvist Bakery,refund,2025-03-10T14:00:00Z,-4,EUR,web,,k4
            ,crm-2,Lindqvist Bakery,teleportation,2025-03-10T14:00:00Z,,,web,,k5
            """, TestContext.Current.CancellationToken);

        (await RunAsync("import", file)).ShouldBe(ToolCommands.ImportExitCodes.SomeRejected);
        var rejected = await File.ReadAllLinesAsync(file + ".rejected.csv", TestContext.Current.CancellationToken);
        rejected[0].ShouldStartWith("row,field,reason,buyer_id,");
        rejected.Skip(1).Select(l => l.Split(',')[1]).ShouldBe(["occurred_at", "amount", "type"]);

        var app = AdvisorServerHost.Build(["--Storage:Path", Db, "--Logging:LogLevel:Default", "Warning"]);
        await using (app)
        {
            var store = app.Services.GetRequiredService<IBuyerStore>();
            var harbor = (await store.FindBuyersByNameAsync("harbor point legal", 5, TestContext.Current.CancellationToken)).Single();
            harbor.ExternalId.ShouldBe("crm-1");
            harbor.InteractionCount.ShouldBe(2);
            var notes = (await store.ListInteractionsAsync(harbor.Id, 10, null, TestContext.Current.CancellationToken))!.Items.Select(i => i.Note).ToList();
            notes.ShouldContain("Signed, with a \"quoted\" word");
        }

        (await RunAsync("import", file)).ShouldBe(ToolCommands.ImportExitCodes.SomeRejected, "the bad rows are still bad; the good ones are duplicates now");
    }

    [Fact]
    public async Task Json_lines_import_and_a_missing_file_cannot_run()
    {
        var file = Path.Combine(_folder, "interactions.jsonl");
        await File.WriteAllTextAsync(file, """
            {"buyer_name": "Oakridge Dental", "type": "purchase", "occurred_at": "2025-06-11T15:00:00Z", "amount": 89, "currency": "EUR", "idempotency_key": "p1"}
            {"buyer_name": "Oakridge Dental", "type": "message", "occurred_at": "2025-06-12T15:00:00Z"}
            """, TestContext.Current.CancellationToken);
        (await RunAsync("import", file)).ShouldBe(ToolCommands.ImportExitCodes.Ok);
        (await RunAsync("import", Path.Combine(_folder, "missing.csv"))).ShouldBe(ToolCommands.ImportExitCodes.CannotRun);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Task<int> RunAsync(string command, string file) =>
        ServerCommandLine.Create().Parse([command, file, "--Storage:Path", Db]).InvokeAsync(cancellationToken: TestContext.Current.CancellationToken);
}
