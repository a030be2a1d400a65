// One PostgreSQL server for the whole test run; each test class creates its own database in it.
[assembly: AssemblyFixture(typeof(Advisor.Server.Tests.Storage.PostgresInstance))]
