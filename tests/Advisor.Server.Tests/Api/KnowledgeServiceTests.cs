using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using Grpc.Core;

namespace Advisor.Server.Tests.Api;

public sealed class KnowledgeServiceTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Lists_topics_in_pages_and_filters_by_category()
    {
        var first = await server.Knowledge.ListTopicsAsync(new ListTopicsRequest { PageSize = 5 }, ServerFixture.Deadline());
        first.Topics.Count.ShouldBe(5);
        first.TotalSize.ShouldBeGreaterThan(20);
        var all = first.Topics.ToList();
        var token = first.NextPageToken;
        while (token.Length > 0)
        {
            var page = await server.Knowledge.ListTopicsAsync(new ListTopicsRequest { PageSize = 5, PageToken = token }, ServerFixture.Deadline());
            all.AddRange(page.Topics);
            token = page.NextPageToken;
        }

        all.Count.ShouldBe(first.TotalSize);
        all.Select(t => t.Name).ShouldBeUnique();
        all.ShouldAllBe(t => t.SourceTitles.Count > 0);

        var industries = await server.Knowledge.ListTopicsAsync(new ListTopicsRequest { Category = TopicCategory.Industry, PageSize = 200 }, ServerFixture.Deadline());
        industries.Topics.ShouldAllBe(t => t.Category == TopicCategory.Industry && t.Leaning.Length > 0);
        industries.Topics.Select(t => t.Name).ShouldContain("topics/industry-banks");
    }

    [Fact]
    public async Task Gets_a_topic_by_name_and_reports_missing_ones()
    {
        var topic = await server.Knowledge.GetTopicAsync(new GetTopicRequest { Name = "topics/dimension-trust" }, ServerFixture.Deadline());
        topic.ClientView.ShouldNotBeNullOrEmpty();
        topic.CustomerView.ShouldNotBeNullOrEmpty();

        var missing = await Should.ThrowAsync<RpcException>(() => server.Knowledge.GetTopicAsync(new GetTopicRequest { Name = "topics/nope" }, ServerFixture.Deadline()).ResponseAsync);
        missing.StatusCode.ShouldBe(StatusCode.NotFound);

        var malformed = await Should.ThrowAsync<RpcException>(() => server.Knowledge.GetTopicAsync(new GetTopicRequest { Name = "dimension-trust" }, ServerFixture.Deadline()).ResponseAsync);
        malformed.ShouldBeInvalidArgument("name");
    }
}
