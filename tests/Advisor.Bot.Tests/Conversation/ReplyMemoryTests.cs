using System.Text.Json;
using Advisor.Bot.Conversation;
using Advisor.Bot.Tests.Slack;

namespace Advisor.Bot.Tests.Conversation;

/// <summary>Buttons act on remembered replies: the newest must always be there, the memory must stay bounded.</summary>
public sealed class ReplyMemoryTests
{
    [Fact]
    public void A_full_memory_forgets_the_reply_used_longest_ago_and_keeps_every_new_one()
    {
        var memory = new ReplyMemory(capacity: 3);
        var ids = Enumerable.Range(1, 5).Select(i => memory.Remember(new Reply { Title = $"answer {i}" }, new ReplySubject { Question = $"q{i}" }).Id).ToList();

        memory.Recall(ids[0]).ShouldBeNull();
        memory.Recall(ids[1]).ShouldBeNull();
        ids.Skip(2).Select(id => memory.Recall(id)?.Subject.Question).ShouldBe(["q3", "q4", "q5"]);
    }

    [Fact]
    public void Recalling_a_reply_keeps_it_over_replies_nobody_clicked()
    {
        var memory = new ReplyMemory(capacity: 2);
        var first = memory.Remember(new Reply { Title = "first" }, new ReplySubject()).Id;
        var second = memory.Remember(new Reply { Title = "second" }, new ReplySubject()).Id;
        memory.Recall(first).ShouldNotBeNull();

        var third = memory.Remember(new Reply { Title = "third" }, new ReplySubject()).Id;

        memory.Recall(second).ShouldBeNull();
        memory.Recall(first)!.Reply.Title.ShouldBe("first");
        memory.Recall(third)!.Reply.Title.ShouldBe("third");
    }

    [Fact]
    public void A_reply_is_forgotten_a_lifetime_after_it_was_last_used_and_each_use_extends_it()
    {
        var clock = new ManualClock();
        var memory = new ReplyMemory(capacity: 10, lifetime: TimeSpan.FromMinutes(10), time: clock);
        var used = memory.Remember(new Reply { Title = "used" }, new ReplySubject()).Id;
        var idle = memory.Remember(new Reply { Title = "idle" }, new ReplySubject()).Id;

        clock.Advance(TimeSpan.FromMinutes(9));
        memory.Recall(used).ShouldNotBeNull();
        clock.Advance(TimeSpan.FromMinutes(9));

        memory.Recall(idle).ShouldBeNull();
        memory.Recall(used).ShouldNotBeNull();
    }

    [Fact]
    public void The_place_of_an_expired_reply_is_taken_before_any_reply_still_in_use_is_forgotten()
    {
        var clock = new ManualClock();
        var memory = new ReplyMemory(capacity: 2, lifetime: TimeSpan.FromMinutes(10), time: clock);
        var expired = memory.Remember(new Reply { Title = "expired" }, new ReplySubject()).Id;
        clock.Advance(TimeSpan.FromMinutes(9));
        var older = memory.Remember(new Reply { Title = "older" }, new ReplySubject()).Id;
        clock.Advance(TimeSpan.FromMinutes(2));
        memory.Recall(expired).ShouldBeNull();

        var newer = memory.Remember(new Reply { Title = "newer" }, new ReplySubject()).Id;
        memory.Recall(older)!.Reply.Title.ShouldBe("older");
        memory.Recall(newer)!.Reply.Title.ShouldBe("newer");

        var newest = memory.Remember(new Reply { Title = "newest" }, new ReplySubject()).Id;
        memory.Recall(older).ShouldBeNull();
        memory.Recall(newer)!.Reply.Title.ShouldBe("newer");
        memory.Recall(newest)!.Reply.Title.ShouldBe("newest");
    }

    [Fact]
    public void Remembering_under_an_existing_id_replaces_it_without_taking_a_second_place()
    {
        var memory = new ReplyMemory(capacity: 2);
        var kept = memory.Remember(new Reply { Title = "kept" }, new ReplySubject()).Id;
        var id = memory.Remember(new Reply { Title = "old" }, new ReplySubject()).Id;
        memory.Remember(new Reply { Id = id, Title = "new" }, new ReplySubject());

        memory.Recall(id)!.Reply.Title.ShouldBe("new");
        memory.Recall(kept)!.Reply.Title.ShouldBe("kept");
    }

    [Fact]
    public async Task Many_threads_remembering_at_once_leave_exactly_the_capacity_remembered()
    {
        var memory = new ReplyMemory(capacity: 1_000);
        var ct = TestContext.Current.CancellationToken;
        var ids = await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
            Enumerable.Range(0, 5_000).Select(i => memory.Remember(new Reply { Title = $"{t}/{i}" }, new ReplySubject()).Id).ToList(), ct)));

        // The index and the use order stayed in step: neither more (unbounded) nor fewer (lost entries) than the capacity.
        ids.SelectMany(i => i).Count(id => memory.Recall(id) is not null).ShouldBe(1_000);
    }

    [Fact]
    public void A_recalled_reply_is_the_reply_that_was_remembered_field_for_field()
    {
        var memory = new ReplyMemory(capacity: 4);
        var subject = new ReplySubject
        {
            Question = "is Ærøskøbing Café a client? \U0001F914",
            Kind = ReplyKind.Hybrid,
            Industry = "hospitality",
            ClassificationId = "cls-42",
            BuyerId = "buyer-7",
            Evidence = ["Retainer (\u201cyearly\u201d) [+2.0 client]", "", "One-off purchase [-1.0 customer]"],
        };
        var huge = SlackRendererTests.Huge() with { Id = "", Status = ReplyStatus.Notice, FollowUps = ["why?", "", "and then?"] };
        var plain = new Reply { Title = "no confidence, no lists" };

        foreach (var reply in new[] { huge, plain })
        {
            var stored = memory.Remember(reply, subject);
            var recalled = memory.Recall(stored.Id).ShouldNotBeNull();

            // Compared as JSON: every property, list items in order, whatever list type holds them.
            JsonSerializer.Serialize(recalled.Reply).ShouldBe(JsonSerializer.Serialize(reply with { Id = stored.Id }));
            JsonSerializer.Serialize(recalled.Subject).ShouldBe(JsonSerializer.Serialize(subject));
        }
    }

    [Fact]
    public void Replies_of_every_length_taking_each_others_places_come_back_intact()
    {
        // The bytes live in shared fixed-size blocks that evicted and replaced replies hand on: a reply spanning
        // many blocks, one that fits in one, and every length in between, over and over in three places.
        var memory = new ReplyMemory(capacity: 3);
        var random = new Random(2026);
        var kept = new Queue<(string Id, string Text)>();
        for (var i = 0; i < 300; i++)
        {
            var text = new string((char)('a' + (i % 26)), random.Next(0, i % 10 == 0 ? 20_000 : 1_500)) + $" #{i} \u00e9\U0001F600";
            var id = memory.Remember(new Reply { Title = $"reply {i}", Text = text }, new ReplySubject { Question = $"q{i}" }).Id;
            kept.Enqueue((id, text));
            if (kept.Count > 3)
            {
                memory.Recall(kept.Dequeue().Id).ShouldBeNull();
            }

            foreach (var (keptId, keptText) in kept)
            {
                memory.Recall(keptId)!.Reply.Text.ShouldBe(keptText);
            }
        }
    }

    [Fact]
    public void Every_field_of_a_reply_and_its_subject_is_one_the_memory_keeps()
    {
        // The memory keeps replies as bytes (ReplyCodec): a property added to either record must be added there too,
        // or a button on a remembered reply would come back without it.
        typeof(Reply).GetProperties().Where(p => p.CanWrite).Select(p => p.Name).Order().ShouldBe(
            ["Buttons", "Confidence", "Facts", "FollowUps", "Id", "Kind", "Sections", "Status", "Text", "Title"]);
        typeof(ReplySubject).GetProperties().Where(p => p.CanWrite).Select(p => p.Name).Order().ShouldBe(
            ["BuyerId", "ClassificationId", "Evidence", "Industry", "Kind", "Question"]);
    }

    [Fact]
    public void Ids_are_twelve_readable_characters_and_only_such_ids_are_remembered()
    {
        var ids = Enumerable.Range(0, 1_000).Select(_ => ReplyMemory.NewId()).ToList();
        ids.ShouldAllBe(id => id.Length == 12 && id.All(c => "abcdefghijkmnpqrstuvwxyz23456789".Contains(c)));
        ids.Distinct().Count().ShouldBe(ids.Count);

        var memory = new ReplyMemory(capacity: 2);
        Should.Throw<ArgumentException>(() => memory.Remember(new Reply { Id = "hugereply001" }, new ReplySubject()));
        memory.Recall("not-an-id").ShouldBeNull();
        memory.Recall(ReplyMemory.NewId()).ShouldBeNull();
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
