using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Advisor.Bot.Conversation;

/// <summary>What a reply was about, so its buttons can act on it later without the platform sending it back.</summary>
public sealed record ReplySubject
{
    public string Question { get; init; } = "";
    public ReplyKind Kind { get; init; } = ReplyKind.None;
    public string Industry { get; init; } = "";
    public string ClassificationId { get; init; } = "";
    public string BuyerId { get; init; } = "";
    /// <summary>Every piece of evidence, strongest first, already worded for people.</summary>
    public IReadOnlyList<string> Evidence { get; init; } = [];
}

public sealed record RememberedReply(Reply Reply, ReplySubject Subject);

/// <summary>
/// Recent replies by id, bounded in count and age so memory cannot grow without limit. Buttons carry only the id
/// (Discord's custom_id is 100 characters); a button on a forgotten reply gets a polite "ask again".
/// When full, remembering a reply forgets the one used longest ago, so the newest replies always keep working
/// buttons. (It used a size-limited <c>MemoryCache</c>, which instead refuses new entries once full until a
/// background compaction has run: under a burst of questions the newest answers' buttons said "expired" at once.)
/// </summary>
/// <remarks>
/// Built so that the garbage collector has nothing to do with it: a reply is kept as bytes (<see cref="ReplyCodec"/>)
/// in fixed-size blocks of a few large arrays that are allocated as the memory first fills and then reused, ids are
/// 60-bit numbers, and the index and the use order are arrays of numbers. Kept as objects, the remembered replies were
/// what survived each collection of the bot under load (every new one copied into gen1 and gen2, ten thousand of them
/// traced), and the pauses grew with them (docs/benchmarks.md, "Slack p99: the remembered replies"). A buffer per slot,
/// grown when a longer reply took the slot, still promoted about a kilobyte per reply for minutes after start.
/// </remarks>
public sealed class ReplyMemory
{
    private const string Alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
    private const int IdLength = 12;
    private const int BitsPerChar = 5;
    private const int None = -1;

    private readonly int _capacity;
    private readonly long _lifetimeTicks;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();

    // Slot i holds one reply: its key, its bytes (Lengths[i] of them, from block FirstBlocks[i] on), when it was last
    // used (UTC ticks) and its neighbours in use order. The index maps a key to its slot.
    private readonly Dictionary<ulong, int> _slotByKey;
    private readonly ulong[] _keys;
    private readonly Blocks _blocks = new();
    private readonly int[] _firstBlocks;
    private readonly int[] _lengths;
    private readonly long[] _touched;
    private readonly int[] _newer;
    private readonly int[] _older;
    private int _newest = None;
    private int _oldest = None;
    private int _freed = None;
    private int _neverUsed;

    /// <param name="capacity">Replies kept at most.</param>
    /// <param name="lifetime">How long a reply is kept after it was last remembered or recalled.</param>
    public ReplyMemory(int capacity = 10_000, TimeSpan? lifetime = null, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _lifetimeTicks = (lifetime ?? TimeSpan.FromHours(6)).Ticks;
        _time = time ?? TimeProvider.System;
        _slotByKey = new Dictionary<ulong, int>(capacity);
        _keys = new ulong[capacity];
        _firstBlocks = new int[capacity];
        _lengths = new int[capacity];
        _touched = new long[capacity];
        _newer = new int[capacity];
        _older = new int[capacity];
    }

    /// <summary>
    /// Remembers <paramref name="reply"/> under its id (one from <see cref="NewId"/>; a new one when it has none) and
    /// returns it with that id.
    /// </summary>
    public Reply Remember(Reply reply, ReplySubject subject)
    {
        var id = string.IsNullOrEmpty(reply.Id) ? NewId() : reply.Id;
        if (!TryKey(id, out var key))
        {
            throw new ArgumentException($"A remembered reply's id comes from {nameof(ReplyMemory)}.{nameof(NewId)}.", nameof(reply));
        }

        var encoded = ArrayPool<byte>.Shared.Rent(ReplyCodec.MaxLength(reply, subject));
        try
        {
            var length = ReplyCodec.Encode(encoded, reply, subject);
            var now = _time.GetUtcNow().UtcTicks;
            lock (_gate)
            {
                var slot = TakeSlot(key);
                _firstBlocks[slot] = _blocks.Store(encoded.AsSpan(0, length));
                _lengths[slot] = length;
                _keys[slot] = key;
                _touched[slot] = now;
                _slotByKey[key] = slot;
                MakeNewest(slot);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(encoded);
        }

        return reply.Id == id ? reply : reply with { Id = id };
    }

    public RememberedReply? Recall(string id)
    {
        if (!TryKey(id, out var key))
        {
            return null;
        }

        var now = _time.GetUtcNow().UtcTicks;
        lock (_gate)
        {
            if (!_slotByKey.TryGetValue(key, out var slot))
            {
                return null;
            }

            if (now - _touched[slot] >= _lifetimeTicks)
            {
                Unlink(slot);
                _slotByKey.Remove(key);
                _blocks.Free(_firstBlocks[slot]);
                _older[slot] = _freed;
                _freed = slot;
                return null;
            }

            // Sliding: a reply people still click on stays.
            _touched[slot] = now;
            Unlink(slot);
            MakeNewest(slot);
            return ReplyCodec.Decode(_blocks.Read(_firstBlocks[slot], _lengths[slot]), id);
        }
    }

    /// <summary>A new reply id: 12 characters that are easy to read back (no 0/o, 1/l), 60 random bits.</summary>
    public static string NewId()
    {
        Span<byte> random = stackalloc byte[sizeof(ulong)];
        RandomNumberGenerator.Fill(random);
        var bits = BinaryPrimitives.ReadUInt64LittleEndian(random);
        return string.Create(IdLength, bits, static (chars, bits) =>
        {
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = Alphabet[(int)(bits >> (i * BitsPerChar)) & (Alphabet.Length - 1)];
            }
        });
    }

    private static bool TryKey(string id, out ulong key)
    {
        key = 0;
        if (id.Length != IdLength)
        {
            return false;
        }

        for (var i = 0; i < IdLength; i++)
        {
            var digit = Alphabet.IndexOf(id[i], StringComparison.Ordinal);
            if (digit < 0)
            {
                return false;
            }

            key |= (ulong)digit << (i * BitsPerChar);
        }

        return true;
    }

    /// <summary>The slot for <paramref name="key"/>, out of the use order: its own, a free one, or the one used longest ago.</summary>
    private int TakeSlot(ulong key)
    {
        if (_slotByKey.TryGetValue(key, out var slot))
        {
            Unlink(slot);
            _blocks.Free(_firstBlocks[slot]);
            return slot;
        }

        if (_freed != None)
        {
            slot = _freed;
            _freed = _older[slot];
            return slot;
        }

        if (_neverUsed < _capacity)
        {
            return _neverUsed++;
        }

        slot = _oldest;
        Unlink(slot);
        _slotByKey.Remove(_keys[slot]);
        _blocks.Free(_firstBlocks[slot]);
        return slot;
    }

    private void MakeNewest(int slot)
    {
        _newer[slot] = None;
        _older[slot] = _newest;
        if (_newest != None)
        {
            _newer[_newest] = slot;
        }

        _newest = slot;
        if (_oldest == None)
        {
            _oldest = slot;
        }
    }

    private void Unlink(int slot)
    {
        var (newer, older) = (_newer[slot], _older[slot]);
        if (newer == None)
        {
            _newest = older;
        }
        else
        {
            _older[newer] = older;
        }

        if (older == None)
        {
            _oldest = newer;
        }
        else
        {
            _newer[older] = newer;
        }
    }
    /// <summary>
    /// Byte sequences in fixed-size blocks of 1 MiB arrays, a sequence's blocks chained by index. Arrays are added
    /// as more blocks are needed and kept, so once the memory has been full the same blocks are rewritten and nothing
    /// is allocated; the arrays hold no references and sit in the large object heap, which gen0 and gen1 collections
    /// leave alone. Not thread-safe: used under the memory's lock.
    /// </summary>
    private sealed class Blocks
    {
        private const int BlockSize = 256;
        private const int BlocksPerArray = 4096;

        private readonly List<byte[]> _arrays = [];
        // Per block: the next block of the same sequence (or of the free list), None at the end.
        private int[] _next = [];
        private int _free = None;

        /// <summary>Copies <paramref name="bytes"/> into free blocks; returns the first (None for an empty sequence).</summary>
        public int Store(ReadOnlySpan<byte> bytes)
        {
            var first = None;
            var previous = None;
            for (var offset = 0; offset < bytes.Length; offset += BlockSize)
            {
                var block = Take();
                var part = bytes.Slice(offset, Math.Min(BlockSize, bytes.Length - offset));
                part.CopyTo(Span(block));
                _next[block] = None;
                if (previous == None)
                {
                    first = block;
                }
                else
                {
                    _next[previous] = block;
                }

                previous = block;
            }

            return first;
        }

        /// <summary>The <paramref name="length"/> bytes stored from <paramref name="first"/> on, copied into one array.</summary>
        public byte[] Read(int first, int length)
        {
            var bytes = new byte[length];
            var block = first;
            for (var offset = 0; offset < length; offset += BlockSize, block = _next[block])
            {
                Span(block)[..Math.Min(BlockSize, length - offset)].CopyTo(bytes.AsSpan(offset));
            }

            return bytes;
        }

        /// <summary>Gives the blocks of the sequence starting at <paramref name="first"/> back.</summary>
        public void Free(int first)
        {
            while (first != None)
            {
                var next = _next[first];
                _next[first] = _free;
                _free = first;
                first = next;
            }
        }

        private Span<byte> Span(int block) =>
            _arrays[block / BlocksPerArray].AsSpan(block % BlocksPerArray * BlockSize, BlockSize);

        private int Take()
        {
            if (_free == None)
            {
                var start = _arrays.Count * BlocksPerArray;
                _arrays.Add(new byte[BlocksPerArray * BlockSize]);
                if (_next.Length < start + BlocksPerArray)
                {
                    Array.Resize(ref _next, Math.Max(2 * _next.Length, start + BlocksPerArray));
                }

                for (var block = start + BlocksPerArray - 1; block >= start; block--)
                {
                    _next[block] = _free;
                    _free = block;
                }
            }

            var taken = _free;
            _free = _next[taken];
            return taken;
        }
    }
}
