namespace Advisor.Server.Storage.Postgres;

/// <summary>
/// Commits the import batches that this server's concurrent import streams submit at the same time as one
/// transaction (group commit), so they stop queueing on each other's buyer row locks.
/// </summary>
/// <remarks>
/// Why: bulk imports spread over the same buyers, and every batch locks its buyers' rows from its first write to its
/// commit. Four concurrent streams therefore ran one after another (one stream imported as fast as four), and while
/// three waited, their statements' snapshots held back the oldest visible transaction, so PostgreSQL could not prune
/// the buyers' and totals' old row versions in place: six in ten of those updates became non-HOT, wrote entries into
/// every index of the table and bloated it. Here one of the waiting callers (the first in line) runs the transaction
/// for every batch queued when it starts, in arrival order, as if they had come one after another; the others wait for
/// their share of the result. Every caller is answered only after that transaction commits, so an acknowledgement
/// still means durable, and per-item results, duplicates and created buyers come out as in sequential batches.
/// Several servers still take the row locks against each other as before.
/// </remarks>
internal sealed class ImportGroupCommit
{
    /// <summary>Items one group transaction takes at most (the first batch in line is taken whatever its size).</summary>
    public const int MaxGroupItems = 32_768;

    private readonly Lock _gate = new();
    private readonly List<Waiter> _queue = [];
    private bool _running;

    /// <summary>What a group transaction returns: per-item results in input order, and per new buyer the position of the item that created it.</summary>
    public readonly record struct GroupResult(IReadOnlyList<ImportItemResult> Items, IReadOnlyList<int> CreatedBy);

    /// <summary>Queues <paramref name="items"/>; returns their results once the transaction that wrote them has committed.</summary>
    public async Task<ImportBatchResult> ImportAsync(
        IReadOnlyList<ImportItem> items, Func<IReadOnlyList<ImportItem>, CancellationToken, Task<GroupResult>> commit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var me = new Waiter(items, cancellationToken);
        bool lead;
        lock (_gate)
        {
            lead = !_running;
            _running = true;
            _queue.Add(me);
        }

        if (!lead)
        {
            // Until a leader takes this batch, cancelling takes it out of the line.
            await using (cancellationToken.Register(() => Withdraw(me)))
            {
                if (!await me.Turn.Task)
                {
                    return await me.Result.Task;
                }
            }
        }

        await RunGroupAsync(commit);
        return await me.Result.Task;
    }

    private void Withdraw(Waiter waiter)
    {
        lock (_gate)
        {
            if (!waiter.Taken && _queue.Remove(waiter))
            {
                waiter.Result.TrySetCanceled(waiter.CancellationToken);
                waiter.Turn.TrySetResult(false);
            }
        }
    }

    /// <summary>Runs one transaction for the batches at the head of the line, answers them, and hands the lead to the next in line.</summary>
    private async Task RunGroupAsync(Func<IReadOnlyList<ImportItem>, CancellationToken, Task<GroupResult>> commit)
    {
        List<Waiter> group;
        lock (_gate)
        {
            var count = 0;
            var take = 0;
            while (take < _queue.Count && (take == 0 || count + _queue[take].Items.Count <= MaxGroupItems))
            {
                count += _queue[take].Items.Count;
                _queue[take].Taken = true;
                take++;
            }

            group = _queue.GetRange(0, take);
            _queue.RemoveRange(0, take);
        }

        if (group.Count == 0)
        {
            // The caller given the lead withdrew (cancelled) and nobody else is waiting.
            Release();
            return;
        }

        // The transaction is cancelled only when every batch in it has been given up on.
        using var cancel = new CancellationTokenSource();
        var live = group.Count;
        var registrations = group.Select(w => w.CancellationToken.Register(() =>
        {
            if (Interlocked.Decrement(ref live) == 0)
            {
                cancel.Cancel();
            }
        })).ToList();
        try
        {
            var combined = group.Count == 1 ? group[0].Items : group.SelectMany(w => w.Items).ToList();
            var result = await commit(combined, cancel.Token);
            var offset = 0;
            foreach (var waiter in group)
            {
                var end = offset + waiter.Items.Count;
                var created = result.CreatedBy.Count(i => i >= offset && i < end);
                var items = group.Count == 1 ? result.Items : result.Items.Skip(offset).Take(waiter.Items.Count).ToList();
                waiter.Result.TrySetResult(new ImportBatchResult(items, created));
                offset = end;
            }
        }
        catch (Exception ex)
        {
            foreach (var waiter in group)
            {
                if (ex is OperationCanceledException && waiter.CancellationToken.IsCancellationRequested)
                {
                    waiter.Result.TrySetCanceled(waiter.CancellationToken);
                }
                else
                {
                    waiter.Result.TrySetException(ex);
                }
            }
        }
        finally
        {
            foreach (var registration in registrations)
            {
                await registration.DisposeAsync();
            }

            foreach (var waiter in group)
            {
                // Wakes the members that were waiting in line: their answer is there.
                waiter.Turn.TrySetResult(false);
            }

            Release();
        }
    }

    /// <summary>Ends this leader's turn: the next in line leads, or the line is idle.</summary>
    private void Release()
    {
        lock (_gate)
        {
            if (_queue.Count == 0)
            {
                _running = false;
            }
            else
            {
                _queue[0].Turn.TrySetResult(true);
            }
        }
    }

    private sealed class Waiter(IReadOnlyList<ImportItem> items, CancellationToken cancellationToken)
    {
        public IReadOnlyList<ImportItem> Items { get; } = items;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        /// <summary>Set under the gate when a leader takes this batch into its group; it can no longer be withdrawn.</summary>
        public bool Taken { get; set; }

        /// <summary>True: lead the next group (this batch is first in line); false: answered already (withdrawn).</summary>
        public TaskCompletionSource<bool> Turn { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<ImportBatchResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
