using System.Globalization;
using Advisor.Server.Classification;
using Advisor.Server.Errors;
using Advisor.Server.Knowledge;
using Advisor.Server.Storage;
using Advisor.V1;
using Grpc.Core;

namespace Advisor.Server.Api;

/// <summary>advisor.v1.KnowledgeService: read-only, paged access to the knowledge base.</summary>
public sealed class KnowledgeGrpcService(SnapshotHolder snapshots) : KnowledgeService.KnowledgeServiceBase
{
    public override Task<ListTopicsResponse> ListTopics(ListTopicsRequest request, ServerCallContext context)
    {
        new Violations().Enum(request.Category, "category").PageSize(request.PageSize, 200).ThrowIfAny();
        var offset = 0;
        try
        {
            if (PageToken.Decode(request.PageToken, 1) is [var text])
            {
                offset = int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
            }
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            throw RequestValidationException.For("page_token", "is not a token from a previous response");
        }

        var knowledge = snapshots.Current.Knowledge;
        var matching = knowledge.Topics.Where(t => request.Category == TopicCategory.Unspecified || t.Category.ToProto() == request.Category).ToList();
        var size = request.PageSize == 0 ? 50 : request.PageSize;
        var page = matching.Skip(offset).Take(size).ToList();
        var response = new ListTopicsResponse
        {
            TotalSize = matching.Count,
            NextPageToken = offset + size < matching.Count ? PageToken.Encode((offset + size).ToString(CultureInfo.InvariantCulture)) : "",
        };
        response.Topics.AddRange(page.Select(t => t.ToProto(knowledge.Version)));
        return Task.FromResult(response);
    }

    public override Task<Topic> GetTopic(GetTopicRequest request, ServerCallContext context)
    {
        var violations = new Violations().RequireText(request.Name, "name", 200);
        if (!string.IsNullOrWhiteSpace(request.Name) && !request.Name.StartsWith(ProtoMapping.TopicPrefix, StringComparison.Ordinal))
        {
            violations.Add("name", "must look like topics/{topic_id}");
        }

        violations.ThrowIfAny();
        var knowledge = snapshots.Current.Knowledge;
        var topic = knowledge.Find(request.Name[ProtoMapping.TopicPrefix.Length..]) ?? throw new NotFoundException("topic", request.Name);
        return Task.FromResult(topic.ToProto(knowledge.Version));
    }
}
