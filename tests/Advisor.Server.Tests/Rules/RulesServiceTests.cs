using Advisor.Server.Classification;
using Advisor.Server.Tests.Evaluation;
using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using Grpc.Core;

namespace Advisor.Server.Tests.Rules;

/// <summary>The rule set workflow through the generated client on a real server: draft, validate, backtest, publish, roll back, audit.</summary>
public sealed class RulesServiceTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private RulesService.RulesServiceClient Rules => server.Rules;

    [Fact]
    public async Task The_live_rule_set_has_its_source_and_an_etag()
    {
        var live = await Rules.GetRuleSetAsync(new GetRuleSetRequest(), ServerFixture.Deadline(60));
        live.State.ShouldBe(V1.RuleSetState.Live);
        live.Etag.ShouldNotBeNullOrEmpty();
        live.SourceYaml.ShouldContain("rules:");
        live.RuleCount.ShouldBeGreaterThan(10);
        live.ContentHash.Length.ShouldBe(64);

        var missing = await Should.ThrowAsync<RpcException>(() => Rules.GetRuleSetAsync(new GetRuleSetRequest { Version = "no-such-version" }, ServerFixture.Deadline(60)).ResponseAsync);
        missing.StatusCode.ShouldBe(StatusCode.NotFound);
    }

    [Fact]
    public async Task Validation_reports_every_problem_with_its_location()
    {
        var source = RuleSources.WithRule(RuleSources.WithVersion("broken"), "- { id: agreement.retainer, signal: no_such_signal, weight: 42, explanation: \"twice\" }");
        source = RuleSources.WithPrior(source, "- { industry: industry-banks-nowhere, weight: 0.5, explanation: \"no source\" }");

        var result = await Rules.ValidateRuleSetAsync(new ValidateRuleSetRequest { SourceYaml = source }, ServerFixture.Deadline(60));

        result.Valid.ShouldBeFalse();
        var problems = result.Problems.Select(p => $"{p.Location}: {p.Message}").ToList();
        problems.ShouldContain(p => p.StartsWith("rules[", StringComparison.Ordinal) && p.Contains("duplicate rule id 'agreement.retainer'", StringComparison.Ordinal));
        problems.ShouldContain("rules[0].signal: unknown signal 'no_such_signal'");
        problems.ShouldContain(p => p.StartsWith("rules[0].weight", StringComparison.Ordinal) && p.Contains("out of range", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("industry_priors[0].industry", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("industry_priors[0].source", StringComparison.Ordinal));
        result.Problems.Where(p => p.Location.StartsWith("rules[0]", StringComparison.Ordinal)).ShouldAllBe(p => p.Line > 0);

        var shipped = await Rules.ValidateRuleSetAsync(new ValidateRuleSetRequest { SourceYaml = RuleSources.Shipped() }, ServerFixture.Deadline(60));
        shipped.Valid.ShouldBeTrue();
        shipped.Problems.ShouldBeEmpty();

        var unset = await Should.ThrowAsync<RpcException>(() => Rules.ValidateRuleSetAsync(new ValidateRuleSetRequest(), ServerFixture.Deadline(60)).ResponseAsync);
        unset.ShouldBeInvalidArgument("source");
    }

    [Fact]
    public async Task A_pattern_longer_than_the_limit_is_a_problem_of_that_pattern_found_at_once()
    {
        // Long enough that parsing it as a regex took the server tens of seconds; the check must come before the parse.
        var longPattern = string.Join("|", Enumerable.Range(0, 20_000).Select(i => "w" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var shipped = RuleSources.WithVersion("long-pattern");
        var at = shipped.IndexOf("    patterns:\n", StringComparison.Ordinal);
        at.ShouldBeGreaterThan(0);
        var source = shipped.Insert(at + "    patterns:\n".Length, "      - \"" + longPattern + "\"\n");

        var result = await Rules.ValidateRuleSetAsync(new ValidateRuleSetRequest { SourceYaml = source }, ServerFixture.Deadline(10));

        result.Valid.ShouldBeFalse();
        result.Problems.ShouldContain(p => p.Location == "signals[0].patterns[0]" && p.Message.Contains("at most 2,000", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1_001, 8)] // more patterns than allowed, each short
    [InlineData(60, 1_900)] // few patterns, more characters in all than allowed
    public async Task A_draft_with_too_many_patterns_is_refused_as_a_whole_before_they_are_parsed(int count, int length)
    {
        // Each pattern is valid alone and distinct; only the total breaks the limits.
        var patterns = Enumerable.Range(0, count).Select(i => "      - \"" + ("p" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + "x").PadRight(length, 'q') + "\"\n");
        var shipped = RuleSources.WithVersion("many-patterns");
        var at = shipped.IndexOf("    patterns:\n", StringComparison.Ordinal);
        at.ShouldBeGreaterThan(0);
        var source = shipped.Insert(at + "    patterns:\n".Length, string.Concat(patterns));

        var result = await Rules.ValidateRuleSetAsync(new ValidateRuleSetRequest { SourceYaml = source }, ServerFixture.Deadline(10));

        result.Valid.ShouldBeFalse();
        result.Problems.ShouldContain(p => p.Location == "signals" && p.Message.Contains("at most 1,000 patterns of 100,000 characters", StringComparison.Ordinal));
        result.Problems.ShouldNotContain(p => p.Location.Contains("patterns[", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_invalid_draft_is_stored_with_its_problems_and_never_becomes_live()
    {
        var version = RuleSources.NewVersion("invalid");
        var source = RuleSources.WithRule(RuleSources.WithVersion(version), "- { id: extra, signal: retainer, weight: 0, explanation: \"zero\" }");
        var draft = await Rules.CreateRuleSetDraftAsync(new CreateRuleSetDraftRequest { SourceYaml = source }, ServerFixture.Deadline(60));
        draft.Version.ShouldBe(version);
        draft.State.ShouldBe(V1.RuleSetState.Draft);
        draft.Problems.ShouldContain(p => p.Location == "rules[0].weight");

        var before = await Rules.GetRuleSetAsync(new GetRuleSetRequest(), ServerFixture.Deadline(60));
        var ex = await Should.ThrowAsync<RpcException>(() => Rules.PublishRuleSetAsync(new PublishRuleSetRequest { Version = version, Etag = before.Etag }, ServerFixture.Deadline(60)).ResponseAsync);
        ex.StatusCode.ShouldBe(StatusCode.FailedPrecondition);
        var after = await Rules.GetRuleSetAsync(new GetRuleSetRequest(), ServerFixture.Deadline(60));
        after.Version.ShouldBe(before.Version);
        after.Etag.ShouldBe(before.Etag);

        var backtest = await Should.ThrowAsync<RpcException>(() => Rules.BacktestRuleSetAsync(new BacktestRuleSetRequest { Version = version }, ServerFixture.Deadline(60)).ResponseAsync);
        backtest.StatusCode.ShouldBe(StatusCode.FailedPrecondition);
    }

    [Fact]
    public async Task The_same_draft_twice_is_one_draft_and_a_different_source_under_its_version_is_refused()
    {
        var version = RuleSources.NewVersion("twice");
        var first = await Rules.CreateRuleSetDraftAsync(new CreateRuleSetDraftRequest { SourceYaml = RuleSources.WithVersion(version) }, ServerFixture.Deadline(60));
        var again = await Rules.CreateRuleSetDraftAsync(new CreateRuleSetDraftRequest { SourceYaml = RuleSources.WithVersion(version) }, ServerFixture.Deadline(60));
        again.ContentHash.ShouldBe(first.ContentHash);
        again.CreateTime.ShouldBe(first.CreateTime);

        var ex = await Should.ThrowAsync<RpcException>(() => Rules.CreateRuleSetDraftAsync(new CreateRuleSetDraftRequest { SourceYaml = RuleSources.RetainerFlipped(version) }, ServerFixture.Deadline(60)).ResponseAsync);
        ex.StatusCode.ShouldBe(StatusCode.AlreadyExists);

        var empty = await Should.ThrowAsync<RpcException>(() => Rules.CreateRuleSetDraftAsync(new CreateRuleSetDraftRequest { SourceYaml = "  " }, ServerFixture.Deadline(60)).ResponseAsync);
        empty.ShouldBeInvalidArgument("source_yaml");
    }

    [Fact]
    public async Task A_backtest_of_the_shipped_rules_reproduces_the_labelled_accuracy()
    {
        var snapshot = SnapshotLoader.LoadShipped();
        var cases = LabelledSets.Buyers();
        var expected = (double)cases.Count(c => BuyerClassifier.ClassifyText(snapshot, c.Text, string.IsNullOrEmpty(c.Industry) ? null : c.Industry).Result.Kind == LabelledSets.ParseKind(c.Expected)) / cases.Count;

        var version = RuleSources.NewVersion("same");
        await Rules.CreateRuleSetDraftAsync(new CreateRuleSetDraftRequest { SourceYaml = RuleSources.WithVersion(version) }, ServerFixture.Deadline(60));
        var report = await Rules.BacktestRuleSetAsync(new BacktestRuleSetRequest { Version = version }, ServerFixture.Deadline(60));

        report.LabelledCases.ShouldBe(cases.Count);
        report.DraftAccuracy.ShouldBe(expected, 1e-9);
        report.DraftAccuracy.ShouldBeGreaterThanOrEqualTo(AccuracyTests.RequiredAccuracy);
        report.DraftVsLabels.Select(r => r.Counts.Sum()).Sum().ShouldBe(cases.Count);
        report.DraftVsLabels.Count.ShouldBe(4);
    }

    [Fact]
    public async Task A_backtest_lists_what_changes_kind_and_why_in_the_labelled_set_and_stored_cases()
    {
        // Other tests in this class publish changed rule sets on the same server; the comparison below is against the shipped rules.
        await MakeShippedRulesLiveAsync();
        const string stored = "They pay us a monthly retainer.";
        var classified = await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = stored }, ServerFixture.Deadline(60));
        classified.Classification.Kind.ShouldBe(BuyerKind.Client);
        var buyer = await new BuyerService.BuyerServiceClient(server.Channel).CreateBuyerAsync(
            new CreateBuyerRequest { Buyer = new Buyer { DisplayName = "Retained Ltd " + Guid.NewGuid().ToString("N")[..6], Notes = "They pay us a monthly retainer for ongoing advice." } }, ServerFixture.Deadline(60));

        var version = RuleSources.NewVersion("flipped");
        await Rules.CreateRuleSetDraftAsync(new CreateRuleSetDraftRequest { SourceYaml = RuleSources.RetainerFlipped(version) }, ServerFixture.Deadline(60));
        var report = await Rules.BacktestRuleSetAsync(new BacktestRuleSetRequest { Version = version, MaxChanges = 1000 }, ServerFixture.Deadline(60));

        report.ContentHash.Length.ShouldBe(64);
        report.RuleChanges.ShouldHaveSingleItem().Item.ShouldBe("rules.agreement.retainer");
        report.RuleChanges[0].Before.ShouldContain("+3.0");
        report.RuleChanges[0].After.ShouldContain("-3.0");
        report.ChangesTotal.ShouldBeGreaterThan(0);
        report.Changes.Count.ShouldBe(report.ChangesTotal);
        report.DraftVsLive.Select(r => r.Counts.Sum()).Sum().ShouldBe(report.LabelledCases + report.BuyersCompared);

        var labelled = report.Changes.Where(c => c.Population == "labelled").ToList();
        labelled.ShouldNotBeEmpty();
        labelled.ShouldAllBe(c => c.LiveKind != c.DraftKind && c.ExpectedKind != BuyerKind.Unspecified);
        labelled.ShouldAllBe(c => c.Reason.Contains("agreement.retainer", StringComparison.Ordinal));
        labelled.ShouldContain(c => c.LiveEvidence.Any(e => e.RuleId == "agreement.retainer" && e.Weight > 0) && c.DraftEvidence.Any(e => e.RuleId == "agreement.retainer" && e.Weight < 0));
        labelled.ShouldAllBe(c => c.LiveEvidence.Count <= 3 && c.DraftEvidence.Count <= 3);

        report.BuyersCompared.ShouldBeGreaterThan(0);
        var storedChange = report.Changes.Single(c => c.Population == "stored" && c.DisplayName == stored);
        storedChange.LiveKind.ShouldBe(BuyerKind.Client);
        storedChange.DraftKind.ShouldNotBe(BuyerKind.Client);
        var buyerChange = report.Changes.Single(c => c.SubjectId == buyer.Id);
        buyerChange.Population.ShouldBe("stored");
        buyerChange.DisplayName.ShouldBe(buyer.DisplayName);
        buyerChange.LiveKind.ShouldBe(BuyerKind.Client);

        var capped = await Rules.BacktestRuleSetAsync(new BacktestRuleSetRequest { Version = version, MaxChanges = 1 }, ServerFixture.Deadline(60));
        capped.Changes.Count.ShouldBe(1);
        capped.ChangesTotal.ShouldBe(report.ChangesTotal);
    }

    [Fact]
    public async Task Publish_can_require_a_backtest_then_goes_live_and_rollback_returns_with_an_audit_trail()
    {
        var before = await Rules.GetRuleSetAsync(new GetRuleSetRequest(), ServerFixture.Deadline(60));
        var version = RuleSources.NewVersion("published");
        await Rules.CreateRuleSetDraftAsync(new CreateRuleSetDraftRequest { SourceYaml = RuleSources.RetainerFlipped(version) }, ServerFixture.Deadline(60));

        var untested = await Should.ThrowAsync<RpcException>(() => Rules.PublishRuleSetAsync(
            new PublishRuleSetRequest { Version = version, Etag = before.Etag, RequireBacktest = true }, ServerFixture.Deadline(60)).ResponseAsync);
        untested.StatusCode.ShouldBe(StatusCode.FailedPrecondition);

        await Rules.BacktestRuleSetAsync(new BacktestRuleSetRequest { Version = version }, ServerFixture.Deadline(60));
        var published = await Rules.PublishRuleSetAsync(new PublishRuleSetRequest { Version = version, Etag = before.Etag, RequireBacktest = true }, ServerFixture.Deadline(60));
        published.State.ShouldBe(V1.RuleSetState.Live);
        published.Backtested.ShouldBeTrue();
        published.Etag.ShouldNotBe(before.Etag);

        var answer = await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = "They pay a monthly retainer." }, ServerFixture.Deadline(60));
        answer.Classification.RuleSetVersion.ShouldBe(version);
        answer.Classification.Evidence.ShouldContain(e => e.RuleId == "agreement.retainer" && e.Weight < 0);

        var stale = await Should.ThrowAsync<RpcException>(() => Rules.RollbackRuleSetAsync(new RollbackRuleSetRequest { Version = before.Version, Etag = before.Etag }, ServerFixture.Deadline(60)).ResponseAsync);
        stale.StatusCode.ShouldBe(StatusCode.Aborted);
        var notLiveBefore = await Should.ThrowAsync<RpcException>(() => Rules.RollbackRuleSetAsync(new RollbackRuleSetRequest { Version = version, Etag = published.Etag }, ServerFixture.Deadline(60)).ResponseAsync);
        notLiveBefore.StatusCode.ShouldBe(StatusCode.FailedPrecondition);

        var rolledBack = await Rules.RollbackRuleSetAsync(new RollbackRuleSetRequest { Version = before.Version, Etag = published.Etag }, ServerFixture.Deadline(60));
        rolledBack.Version.ShouldBe(before.Version);
        rolledBack.State.ShouldBe(V1.RuleSetState.Live);
        (await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = "They pay a monthly retainer." }, ServerFixture.Deadline(60)))
            .Classification.RuleSetVersion.ShouldBe(before.Version);
        (await Rules.GetRuleSetAsync(new GetRuleSetRequest { Version = version }, ServerFixture.Deadline(60))).State.ShouldBe(V1.RuleSetState.Retired);

        var audit = await Rules.ListAuditEntriesAsync(new ListAuditEntriesRequest { PageSize = 1000 }, ServerFixture.Deadline(60));
        var mine = audit.Entries.Where(e => e.Target == version || (e.Action == "rules.rollback" && e.FromVersion == version)).ToList();
        mine.Select(e => e.Action).ShouldBe(["rules.rollback", "rules.publish", "rules.backtest", "rules.draft"]);
        mine.ShouldAllBe(e => e.Actor == "local" && e.Time != null);
        mine[0].Target.ShouldBe(before.Version);
        mine[0].FromVersion.ShouldBe(version);
        mine[1].FromVersion.ShouldBe(before.Version);
    }

    [Fact]
    public async Task Concurrent_publishes_with_the_same_etag_have_exactly_one_winner()
    {
        var live = await Rules.GetRuleSetAsync(new GetRuleSetRequest(), ServerFixture.Deadline(60));
        var versions = Enumerable.Range(0, 4).Select(i => RuleSources.NewVersion("race" + i)).ToList();
        foreach (var v in versions)
        {
            await Rules.CreateRuleSetDraftAsync(new CreateRuleSetDraftRequest { SourceYaml = RuleSources.WithVersion(v) }, ServerFixture.Deadline(60));
        }

        var attempts = versions.Select(async v =>
        {
            try
            {
                return (Version: v, Result: await Rules.PublishRuleSetAsync(new PublishRuleSetRequest { Version = v, Etag = live.Etag }, ServerFixture.Deadline(30)), Code: StatusCode.OK);
            }
            catch (RpcException ex)
            {
                return (Version: v, Result: (V1.RuleSet?)null, Code: ex.StatusCode);
            }
        }).ToList();
        var outcomes = await Task.WhenAll(attempts);

        outcomes.Count(o => o.Code == StatusCode.OK).ShouldBe(1);
        outcomes.Where(o => o.Code != StatusCode.OK).ShouldAllBe(o => o.Code == StatusCode.Aborted || o.Code == StatusCode.FailedPrecondition);
        var winner = outcomes.Single(o => o.Code == StatusCode.OK);
        var now = await Rules.GetRuleSetAsync(new GetRuleSetRequest(), ServerFixture.Deadline(60));
        now.Version.ShouldBe(winner.Version);
        now.Etag.ShouldBe(winner.Result!.Etag);
        foreach (var loser in outcomes.Where(o => o.Code != StatusCode.OK))
        {
            (await Rules.GetRuleSetAsync(new GetRuleSetRequest { Version = loser.Version }, ServerFixture.Deadline(60))).State.ShouldBe(V1.RuleSetState.Draft);
        }
    }

    [Fact]
    public async Task Requests_running_during_a_publish_answer_with_one_version_and_new_ones_use_the_new_version()
    {
        var live = await Rules.GetRuleSetAsync(new GetRuleSetRequest(), ServerFixture.Deadline(60));
        var version = RuleSources.NewVersion("during");
        await Rules.CreateRuleSetDraftAsync(new CreateRuleSetDraftRequest { SourceYaml = RuleSources.RetainerFlipped(version) }, ServerFixture.Deadline(60));

        using var stop = new CancellationTokenSource();
        var seen = new System.Collections.Concurrent.ConcurrentBag<V1.Classification>();
        var traffic = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var r = await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = "They pay a monthly retainer and buy from our catalogue." }, ServerFixture.Deadline(60));
                seen.Add(r.Classification);
            }
        })).ToList();

        while (seen.Count < 20)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        await Rules.PublishRuleSetAsync(new PublishRuleSetRequest { Version = version, Etag = live.Etag }, ServerFixture.Deadline(60));
        var after = await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = "They pay a monthly retainer." }, ServerFixture.Deadline(60));
        await stop.CancelAsync();
        await Task.WhenAll(traffic);

        after.Classification.RuleSetVersion.ShouldBe(version);
        seen.ShouldAllBe(c => c.RuleSetVersion == live.Version || c.RuleSetVersion == version);
        // Each answer is consistent with the version it names: the retainer weighs for client under one, for customer under the other.
        seen.ShouldAllBe(c => c.Evidence.Where(e => e.RuleId == "agreement.retainer").All(e => (e.Weight > 0) == (c.RuleSetVersion != version)));
    }

    [Fact]
    public async Task Versions_and_audit_entries_page_newest_first()
    {
        for (var i = 0; i < 3; i++)
        {
            await Rules.CreateRuleSetDraftAsync(new CreateRuleSetDraftRequest { SourceYaml = RuleSources.WithVersion(RuleSources.NewVersion("page" + i)) }, ServerFixture.Deadline(60));
        }

        var seen = new List<V1.RuleSet>();
        var token = "";
        do
        {
            var page = await Rules.ListRuleSetVersionsAsync(new ListRuleSetVersionsRequest { PageSize = 2, PageToken = token }, ServerFixture.Deadline(60));
            page.RuleSets.Count.ShouldBeLessThanOrEqualTo(2);
            page.RuleSets.ShouldAllBe(r => r.SourceYaml == "");
            seen.AddRange(page.RuleSets);
            token = page.NextPageToken;
        }
        while (token.Length > 0);

        seen.Count.ShouldBeGreaterThanOrEqualTo(4);
        seen.Select(r => r.Version).ShouldBeUnique();
        seen.Select(r => r.CreateTime.ToDateTimeOffset()).ShouldBeInOrder(SortDirection.Descending);
        seen.Count(r => r.State == V1.RuleSetState.Live).ShouldBe(1);

        var audit = await Rules.ListAuditEntriesAsync(new ListAuditEntriesRequest { PageSize = 2 }, ServerFixture.Deadline(60));
        audit.Entries.Count.ShouldBe(2);
        audit.NextPageToken.ShouldNotBeEmpty();

        var bad = await Should.ThrowAsync<RpcException>(() => Rules.ListRuleSetVersionsAsync(new ListRuleSetVersionsRequest { PageToken = "garbage!" }, ServerFixture.Deadline(60)).ResponseAsync);
        bad.StatusCode.ShouldBe(StatusCode.InvalidArgument);
        var size = await Should.ThrowAsync<RpcException>(() => Rules.ListAuditEntriesAsync(new ListAuditEntriesRequest { PageSize = 5000 }, ServerFixture.Deadline(60)).ResponseAsync);
        size.ShouldBeInvalidArgument("page_size");
        var noEtag = await Should.ThrowAsync<RpcException>(() => Rules.PublishRuleSetAsync(new PublishRuleSetRequest { Version = "x" }, ServerFixture.Deadline(60)).ResponseAsync);
        noEtag.ShouldBeInvalidArgument("etag");
    }

    /// <summary>Publishes the shipped rules under a fresh version, whatever an earlier test left live.</summary>
    private async Task MakeShippedRulesLiveAsync()
    {
        var live = await Rules.GetRuleSetAsync(new GetRuleSetRequest(), ServerFixture.Deadline(60));
        var version = RuleSources.NewVersion("shipped");
        await Rules.CreateRuleSetDraftAsync(new CreateRuleSetDraftRequest { SourceYaml = RuleSources.WithVersion(version) }, ServerFixture.Deadline(60));
        await Rules.PublishRuleSetAsync(new PublishRuleSetRequest { Version = version, Etag = live.Etag }, ServerFixture.Deadline(60));
    }
}
