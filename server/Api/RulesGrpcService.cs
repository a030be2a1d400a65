using Advisor.Server.Classification;
using Advisor.Server.Errors;
using Advisor.Server.Knowledge;
using Advisor.Server.Rules;
using Advisor.Server.Security;
using Advisor.Server.Storage;
using Advisor.V1;
using Grpc.Core;

namespace Advisor.Server.Api;

/// <summary>advisor.v1.RulesService: validates requests and maps between the contract and <see cref="RuleSetService"/>.</summary>
public sealed class RulesGrpcService(RuleSetService rules) : RulesService.RulesServiceBase
{
    public const int MaxVersionLength = 64;

    public override async Task<V1.RuleSet> GetRuleSet(GetRuleSetRequest request, ServerCallContext context)
    {
        new Violations().OptionalText(request.Version, "version", MaxVersionLength).ThrowIfAny();
        return (await rules.GetAsync(request.Version, context.CancellationToken)).ToProto(withSource: true);
    }

    public override async Task<ListRuleSetVersionsResponse> ListRuleSetVersions(ListRuleSetVersionsRequest request, ServerCallContext context)
    {
        new Violations().PageSize(request.PageSize, 200).ThrowIfAny();
        var (page, etag) = await rules.ListAsync(request.PageSize == 0 ? 20 : request.PageSize, request.PageToken, context.CancellationToken);
        var response = new ListRuleSetVersionsResponse { NextPageToken = page.NextPageToken };
        response.RuleSets.AddRange(page.Items.Select(r => new RuleSetView(r, etag, []).ToProto(withSource: false)));
        return response;
    }

    public override async Task<V1.RuleSet> CreateRuleSetDraft(CreateRuleSetDraftRequest request, ServerCallContext context)
    {
        new Violations().RequireText(request.SourceYaml, "source_yaml", RuleSetService.MaxSourceLength).ThrowIfAny();
        return (await rules.CreateDraftAsync(request.SourceYaml, Caller.Of(context).Name, context.CancellationToken)).ToProto(withSource: true);
    }

    public override async Task<ValidateRuleSetResponse> ValidateRuleSet(ValidateRuleSetRequest request, ServerCallContext context)
    {
        var violations = new Violations();
        switch (request.SourceCase)
        {
            case ValidateRuleSetRequest.SourceOneofCase.SourceYaml:
                violations.RequireText(request.SourceYaml, "source_yaml", RuleSetService.MaxSourceLength);
                break;
            case ValidateRuleSetRequest.SourceOneofCase.Version:
                violations.RequireText(request.Version, "version", MaxVersionLength);
                break;
            default:
                violations.Add("source", "set one of source_yaml or version");
                break;
        }

        violations.ThrowIfAny();
        var result = request.SourceCase == ValidateRuleSetRequest.SourceOneofCase.SourceYaml
            ? rules.Validate(request.SourceYaml)
            : await rules.ValidateStoredAsync(request.Version, context.CancellationToken);
        var response = new ValidateRuleSetResponse { Valid = result.IsValid, RuleCount = result.RuleCount };
        response.Problems.AddRange(result.Problems.Select(ToProto));
        return response;
    }

    public override async Task<BacktestRuleSetResponse> BacktestRuleSet(BacktestRuleSetRequest request, ServerCallContext context)
    {
        var violations = new Violations().RequireText(request.Version, "version", MaxVersionLength);
        if (request.MaxChanges is < 0 or > 1000)
        {
            violations.Add("max_changes", "must be between 0 and 1000");
        }

        violations.ThrowIfAny();
        var report = await rules.BacktestAsync(request.Version, request.MaxChanges == 0 ? 100 : request.MaxChanges, Caller.Of(context).Name, context.CancellationToken);
        var response = new BacktestRuleSetResponse
        {
            Version = report.Version,
            ContentHash = report.ContentHash,
            LiveVersion = report.LiveVersion,
            LabelledCases = report.LabelledCases,
            DraftAccuracy = report.DraftAccuracy,
            LiveAccuracy = report.LiveAccuracy,
            BuyersCompared = report.StoredCompared,
            ChangesTotal = report.ChangesTotal,
        };
        response.DraftVsLabels.AddRange(ToProto(report.DraftVsLabels));
        response.LiveVsLabels.AddRange(ToProto(report.LiveVsLabels));
        response.DraftVsLive.AddRange(ToProto(report.DraftVsLive));
        response.Changes.AddRange(report.Changes.Select(c =>
        {
            var change = new BuyerKindChange
            {
                SubjectId = c.SubjectId,
                DisplayName = c.DisplayName,
                Population = c.Population,
                ExpectedKind = c.Expected?.ToProto() ?? BuyerKind.Unspecified,
                LiveKind = c.LiveKind.ToProto(),
                DraftKind = c.DraftKind.ToProto(),
                Reason = c.Reason,
            };
            change.LiveEvidence.AddRange(c.LiveEvidence.Select(e => e.ToProto()));
            change.DraftEvidence.AddRange(c.DraftEvidence.Select(e => e.ToProto()));
            return change;
        }));
        response.RuleChanges.AddRange(report.RuleChanges.Select(d => new RuleSetChange { Item = d.Item, Change = d.Change, Before = d.Before, After = d.After }));
        return response;
    }

    public override async Task<V1.RuleSet> PublishRuleSet(PublishRuleSetRequest request, ServerCallContext context)
    {
        new Violations().RequireText(request.Version, "version", MaxVersionLength).RequireText(request.Etag, "etag", 200).ThrowIfAny();
        return (await rules.PublishAsync(request.Version, request.Etag, request.RequireBacktest, Caller.Of(context).Name, context.CancellationToken)).ToProto(withSource: false);
    }

    public override async Task<V1.RuleSet> RollbackRuleSet(RollbackRuleSetRequest request, ServerCallContext context)
    {
        new Violations().RequireText(request.Version, "version", MaxVersionLength).RequireText(request.Etag, "etag", 200).ThrowIfAny();
        return (await rules.RollbackAsync(request.Version, request.Etag, Caller.Of(context).Name, context.CancellationToken)).ToProto(withSource: false);
    }

    public override async Task<ListAuditEntriesResponse> ListAuditEntries(ListAuditEntriesRequest request, ServerCallContext context)
    {
        new Violations().PageSize(request.PageSize, 1000).ThrowIfAny();
        var page = await rules.ListAuditAsync(request.PageSize == 0 ? 50 : request.PageSize, request.PageToken, context.CancellationToken);
        var response = new ListAuditEntriesResponse { NextPageToken = page.NextPageToken };
        response.Entries.AddRange(page.Items.Select(a => new AuditEntry
        {
            Id = a.Id,
            Time = a.Time.ToTimestamp(),
            Actor = a.Actor,
            Action = a.Action,
            Target = a.Target ?? "",
            FromVersion = a.FromVersion ?? "",
            Detail = a.Detail ?? "",
        }));
        return response;
    }

    private static RuleSetProblem ToProto(DataFileProblem p) => new() { Location = p.Location, Line = p.Line, Message = p.Message };

    private static IEnumerable<ConfusionRow> ToProto(ConfusionMatrix matrix) =>
        Backtester.KindOrder.Select(kind =>
        {
            var row = new ConfusionRow { Expected = kind.ToProto() };
            row.Counts.AddRange(matrix.Rows[kind]);
            return row;
        });
}

/// <summary>Rule set mapping to the contract.</summary>
public static class RuleSetMapping
{
    public static V1.RuleSet ToProto(this RuleSetView view, bool withSource)
    {
        var r = view.RuleSet;
        var proto = new V1.RuleSet
        {
            Version = r.Version,
            State = r.State switch
            {
                Storage.RuleSetState.Live => V1.RuleSetState.Live,
                Storage.RuleSetState.Retired => V1.RuleSetState.Retired,
                _ => V1.RuleSetState.Draft,
            },
            SourceYaml = withSource ? r.SourceYaml : "",
            Etag = view.LiveEtag,
            CreateTime = r.CreateTime.ToTimestamp(),
            Author = r.Author,
            BaseVersion = r.BaseVersion ?? "",
            RuleCount = r.RuleCount,
            ContentHash = r.ContentHash,
            Backtested = r.BacktestHash == r.ContentHash,
        };
        if (r.PublishTime is { } published)
        {
            proto.PublishTime = published.ToTimestamp();
        }

        proto.Problems.AddRange(view.Problems.Select(p => new RuleSetProblem { Location = p.Location, Line = p.Line, Message = p.Message }));
        return proto;
    }
}
