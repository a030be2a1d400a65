using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using System.Text.RegularExpressions;

namespace Advisor.Server.Classification;

/// <summary>
/// Matches many patterns at word starts without trying every pattern everywhere. Each pattern is
/// split into its top-level alternatives ("members"). At a word start a prefix tree over the
/// members' literal beginnings ("engagement letter" starts with "engagement letter", "renew(?:ed|s)?"
/// with "renew", "(?:monthly|annual) plan" with "monthly" or "annual") names the few members that
/// could match there; only those run, in priority order, and the first that matches wins. Members
/// that are plain text are compared directly; the rest run as small anchored regular expressions
/// that never allocate. The result is the same as one big alternation tried at every word start
/// (leftmost match first, then the earliest-listed pattern), at a small fraction of the cost, and
/// nothing is compiled to IL, so building an index at start or publish takes milliseconds.
/// </summary>
internal sealed class PatternIndex
{
    private const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture;

    /// <summary>A member's regex is compiled to IL once it has run this often: hot members get fast, building stays cheap.</summary>
    private const int CompileAfterUses = 64;

    /// <summary>Generous: one anchored match at one word start; it exists to stop a pathological pattern, not to time normal work.</summary>
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(5);

    private readonly Member[] _members;

    /// <summary>
    /// The prefix tree, flattened once it is built: node 0 is the root and every node's children are consecutive
    /// (breadth-first numbering). A step down the tree compares the key of each child in turn (<see cref="StepNode"/>,
    /// 16 bytes each, so a node's children usually share a cache line or two), then the child's label, and the child found is the next node to read:
    /// under load the scan's time went to waiting for reads of the tree, so the entries read on every step are kept
    /// apart from the candidate lists (<see cref="_lists"/>), which only the deepest node's step needs.
    /// </summary>
    private readonly StepNode[] _nodes;

    /// <summary>Every node's label (the characters after its key), end to end: see <see cref="StepNode"/>.</summary>
    private readonly char[] _labels;

    /// <summary>Where each node's <see cref="Node.Path"/> and <see cref="Node.PathAndSubtree"/> are in <see cref="_candidates"/>.</summary>
    private readonly CandidateLists[] _lists;

    /// <summary>Every node's <see cref="Node.Path"/> and <see cref="Node.PathAndSubtree"/>, end to end.</summary>
    private readonly int[] _candidates;

    /// <summary>
    /// Per member, what a candidate needs without reading the member itself: its owner, and for plain ASCII text the
    /// text's length (else 0). Reaching a plain member's node by the ASCII walk has already compared its text, case
    /// folded as the member compares it, so only the end of the match is left to check (see <see cref="TryMatchAt"/>).
    /// </summary>
    private readonly MemberInfo[] _info;

    /// <summary>The root's children by ASCII character (-1 for none): every word start looks one up, so it is a direct index.</summary>
    private readonly int[] _rootAscii;

    /// <summary>
    /// What <see cref="TryMatchAt"/>'s walk over a word starting with two ASCII characters (folded as the walk folds them:
    /// A-Z to a-z; the first, then the second: 128 × 128 entries of 2 bits) can come to: <see cref="Dead"/>, it stops with no
    /// candidates; <see cref="Reached"/>, it has candidates whatever follows; <see cref="Open"/>, the characters after them
    /// decide (<see cref="_prefixStates"/>). Why: most words of a description start no pattern, and a call of
    /// <see cref="TryMatchAt"/> to find that out was about 10 ns per word start (its frame, the root lookup, the node and its
    /// label); this read rules out three in four word starts of a description.
    /// </summary>
    private readonly ulong[] _pairStates;

    /// <summary>
    /// The same states as <see cref="_pairStates"/> for the words whose first two characters leave the walk open, by their
    /// first 3 to <see cref="FilterDepth"/> characters, hashed (<see cref="PrefixSlot"/>) into 2 bits per slot. Why: after
    /// the pair, a description's signal scan still called <see cref="TryMatchAt"/> at ~28.5 word starts, and ~21 of those
    /// walks ended with no candidate ("the", "for", "our", "we" begin like patterns but part from them within a few
    /// characters); the industry scan 10.5 of 11. Two texts that share a slot both get its bits, so a collision can only turn
    /// a dead end into a walk, never skip a walk that has candidates.
    /// </summary>
    private readonly ulong[] _prefixStates;

    /// <summary>64 minus the base-2 log of the number of slots in <see cref="_prefixStates"/>: a key's slot is the top bits of its product (<see cref="PrefixSlot"/>).</summary>
    private readonly int _prefixShift;

    /// <summary>
    /// How many characters of a word start the filters read at most; past them the walk decides. At most 9: a key is a 1 bit
    /// and 7 bits per character in 64 bits. With 5, ~5.6 fruitless walks were left per description in the signal scan; with 8, ~1.75.
    /// </summary>
    private const int FilterDepth = 8;

    /// <summary>Filter states, 2 bits each: the walk stops with no candidates (both bits clear), may go on, or has candidates.</summary>
    private const int Dead = 0, Open = 1, Reached = 2;

    /// <summary>Members that could start with anything this reading cannot tell: candidates at every word start.</summary>
    private readonly int[] _always;

    /// <summary>
    /// For each such member, plain text it cannot match without (null when there is none); a text without it skips the
    /// member. Searched as <see cref="SearchValues{T}"/> rather than with string.Contains(OrdinalIgnoreCase): with
    /// invariant globalization (the server's setting) that Contains compares char by char through the invariant casing
    /// table, and it ran over the whole text on every call: about 2 % of the server's CPU in a ClassifyBuyer(description) run.
    /// </summary>
    private readonly SearchValues<string>?[] _alwaysNeeds;

    /// <param name="patterns">(owner index, pattern) in priority order; the owner is reported with each match.</param>
    public PatternIndex(IReadOnlyList<(int Owner, string Pattern)> patterns)
    {
        var members = new List<Member>();
        foreach (var (owner, pattern) in patterns)
        {
            foreach (var branch in SplitTopLevel(pattern).SelectMany(b => ExpandLeadingGroups(b, MaxExpansion)))
            {
                // A branch that can only ever match a few fixed phrases becomes those phrases, compared
                // directly; anything else stays one small regex.
                if (Phrases(branch, MaxPhrases) is { } phrases)
                {
                    members.AddRange(phrases.Where(p => p.Length > 0).Select(p => Member.Create(owner, Regex.Escape(p))));
                }
                else
                {
                    members.Add(Member.Create(owner, branch));
                }
            }
        }

        _members = [.. members];
        var root = new Node();
        var always = new List<int>();
        for (var i = 0; i < _members.Length; i++)
        {
            var branch = _members[i].Branch;
            var first = FirstChars(branch);
            if (first is null)
            {
                always.Add(i);
                continue;
            }

            // The first character is read exactly as the regex reads it (any character the pattern can
            // start with); the literal prefixes, when known, narrow the candidates from the second on.
            var prefixes = LiteralPrefixes(branch);
            foreach (var key in first)
            {
                var matching = prefixes?.Where(p => p[0] == key).ToList();
                if (matching is null || matching.Count == 0)
                {
                    root.Child(key).Add(i);
                    continue;
                }

                foreach (var prefix in matching)
                {
                    var node = root.Child(key);
                    foreach (var c in prefix.AsSpan(1))
                    {
                        node = node.Child(c);
                    }

                    node.Add(i);
                }
            }
        }

        root.Seal();
        (_nodes, _lists, _candidates, _labels) = Flatten(root);
        _info = [.. _members.Select(m => new MemberInfo(m.Owner, m.PlainLength))];
        _rootAscii = new int[128];
        for (var c = '\0'; c < 128; c++)
        {
            _rootAscii[c] = FindChild(0, c);
        }

        _always = [.. always];
        (_pairStates, _prefixStates, _prefixShift) = PrefixFilters();
        _alwaysNeeds = [.. always.Select(i => RequiredLiteral(_members[i].Branch) is { } needed ? SearchValues.Create([needed], StringComparison.OrdinalIgnoreCase) : null)];
    }

    /// <summary>The matches in text order: at each word start the earliest-listed pattern that matches wins.</summary>
    public List<(int Owner, int Start, int Length)> Matches(string text)
    {
        var found = new MatchBuffer(text.Length);
        try
        {
            Scan(text, ref found, firstOnly: false);
            return [.. found.Items];
        }
        finally
        {
            found.Dispose();
        }
    }

    /// <summary>The matches in text order, as <see cref="Matches"/> finds them, added to <paramref name="found"/>.</summary>
    public void Matches(string text, ref MatchBuffer found) => Scan(text, ref found, firstOnly: false);

    /// <summary>The owner of the first match in the text, or -1.</summary>
    public int FirstOwner(string text)
    {
        var found = new MatchBuffer(1);
        try
        {
            Scan(text, ref found, firstOnly: true);
            return found.Count > 0 ? found.Items[0].Owner : -1;
        }
        finally
        {
            found.Dispose();
        }
    }

    private void Scan(string text, ref MatchBuffer found, bool firstOnly)
    {
        // The always-candidates this text can use: in ASCII text the regex's case-insensitive
        // comparison is plain ASCII case folding, so a missing required literal rules a member out.
        Span<int> always = _always.Length <= 64 ? stackalloc int[_always.Length] : new int[_always.Length];
        var alwaysCount = 0;
        // One pass over the text (vectorised), read once: it picks the scan below and, for members tried everywhere, the
        // case folding their required literals may be looked for with.
        var ascii = System.Text.Ascii.IsValid(text);
        found.TextIsAscii = ascii;
        for (var i = 0; i < _always.Length; i++)
        {
            if (!ascii || _alwaysNeeds[i] is not { } needed || text.AsSpan().ContainsAny(needed))
            {
                always[alwaysCount++] = _always[i];
            }
        }

        always = always[..alwaysCount];
        if (ascii)
        {
            ScanAscii(text, ref found, firstOnly, always);
            return;
        }

        var position = 0;
        while (position < text.Length)
        {
            if (!IsWordStart(text, position))
            {
                position++;
                continue;
            }

            if (TryMatchAt(text, position, always, out var owner, out var length) && length > 0)
            {
                found.Add(owner, position, length);
                if (firstOnly)
                {
                    return;
                }

                position += length;
                continue;
            }

            // Skip the rest of this word: matches start only at word starts.
            position++;
            while (position < text.Length && TextMatching.IsWordChar(text[position]))
            {
                position++;
            }
        }
    }

    /// <summary>
    /// <see cref="Scan"/> for plain-ASCII text (almost every description), trying exactly the same word starts in the same
    /// order: a word start is a letter or digit after anything else, and after a failed try the rest of the word (its
    /// letters, digits and apostrophes: "don't" is one word) is passed over, after a match the matched text. Why a scan of
    /// its own: going character by character, two character-class tests per character and a mispredicted branch at every
    /// word's edges cost about 200 ns per description and scan, as much as all the tree walks of the industry scan. Here
    /// each 64 characters are classified at once as bits (<see cref="AsciiWordBits"/>), and only word starts are visited.
    /// </summary>
    private void ScanAscii(string text, ref MatchBuffer found, bool firstOnly, ReadOnlySpan<int> always)
    {
        // No word start before this one is tried: it is past the last match, or past the last tried word's end.
        var resume = 0;
        ulong previousAlnum = 0;
        for (var blockStart = 0; blockStart < text.Length; blockStart += 64)
        {
            var (alnum, word) = AsciiWordBits(text.AsSpan(blockStart, Math.Min(64, text.Length - blockStart)));

            // A letter or digit whose previous character (bit 63 of the previous block, for the first) is neither.
            var starts = alnum & ~((alnum << 1) | (previousAlnum >> 63));
            previousAlnum = alnum;
            while (starts != 0)
            {
                var offset = BitOperations.TrailingZeroCount(starts);
                starts &= starts - 1;
                var position = blockStart + offset;
                if (position < resume)
                {
                    continue;
                }

                if ((!always.IsEmpty || MayHaveCandidates(text, position))
                    && TryMatchAt(text, position, always, out var owner, out var length) && length > 0)
                {
                    found.Add(owner, position, length);
                    if (firstOnly)
                    {
                        return;
                    }

                    resume = position + length;
                    continue;
                }

                // The rest of the word: up to the first character after this one that is not a word character (bits past
                // the text's end are 0 in "word", so its end counts as one); past this block, read character by character.
                var after = offset < 63 ? ~word >> (offset + 1) : 0;
                resume = after != 0 ? position + 1 + BitOperations.TrailingZeroCount(after) : SkipWord(text, blockStart + 64);
            }
        }
    }

    /// <summary>
    /// Whether <see cref="TryMatchAt"/> at <paramref name="position"/> (an ASCII word start in ASCII text) can find candidates,
    /// read from the filters on the word's first two to <see cref="FilterDepth"/> characters; false only when its walk would
    /// end with none. When the text ends before the filters can tell, the walk decides.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool MayHaveCandidates(string text, int position)
    {
        if (position + 1 == text.Length)
        {
            return true;
        }

        // The key is a 1 bit, then 7 bits per character: one number per text of up to FilterDepth characters, its length included.
        var key = (1UL << 14) | ((uint)FoldAscii(text[position]) << 7) | (uint)FoldAscii(text[position + 1]);
        var state = ReadState(_pairStates, (int)key & 0x3FFF);
        var end = Math.Min(text.Length, position + FilterDepth);
        for (var i = position + 2; state == Open; i++)
        {
            if (i == end)
            {
                return true;
            }

            key = (key << 7) | (uint)FoldAscii(text[i]);
            state = ReadState(_prefixStates, PrefixSlot(key));
        }

        // Both bits set (two texts in one slot) is read as Reached: a collision only ever costs a walk.
        return state != Dead;
    }

    /// <summary>The 2-bit state at <paramref name="slot"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReadState(ulong[] states, int slot) => (int)(states[slot >> 5] >> ((slot & 31) * 2)) & 3;

    /// <summary>Where a key of 3 to <see cref="FilterDepth"/> characters is in <see cref="_prefixStates"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int PrefixSlot(ulong key) => PrefixSlot(key, _prefixShift);

    /// <summary>Multiplicative hashing: the top bits of the key times 2^64 / φ, which spreads keys that differ only in their last character.</summary>
    private static int PrefixSlot(ulong key, int shift) => (int)((key * 0x9E3779B97F4A7C15UL) >> shift);

    /// <summary>An ASCII character as the tree walk compares it: A-Z folded to a-z.</summary>
    private static int FoldAscii(char c) => c is >= 'A' and <= 'Z' ? c | 0x20 : c;

    /// <summary>
    /// <see cref="_pairStates"/> and <see cref="_prefixStates"/>: the walk of <see cref="TryMatchAt"/> followed through the tree
    /// for every text it can spell up to <see cref="FilterDepth"/> characters, as it compares ASCII text (keys and labels
    /// against the folded characters). A text that leaves the tree before reaching a node with candidates is dead; one that
    /// has reached such a node is reached (every node below keeps those candidates: a node's path holds its parents'); one
    /// still on the tree without candidates yet is open. Texts not spelled by the tree are dead unless a prefix was reached,
    /// and the scan stops reading at a reached prefix, so they need no entry.
    /// </summary>
    private (ulong[] Pairs, ulong[] Prefixes, int Shift) PrefixFilters()
    {
        var pairs = new ulong[128 * 128 * 2 / 64];
        var longer = new Dictionary<ulong, int>();
        for (var first = 0; first < 128; first++)
        {
            if (_rootAscii[first] >= 0)
            {
                Visit(_rootAscii[first], 0, 1, (1UL << 7) | (ulong)first);
            }
        }

        // A slot per entry at most one in eight: a dead text shares a slot with a live one about one time in eight.
        var slotBits = Math.Max(6, BitOperations.Log2((uint)Math.Max(1, longer.Count)) + 1 + 3);
        var shift = 64 - slotBits;
        var prefixes = new ulong[Math.Max(1, (1 << slotBits) * 2 / 64)];
        foreach (var (key, state) in longer)
        {
            var slot = PrefixSlot(key, shift);
            prefixes[slot >> 5] |= (ulong)state << ((slot & 31) * 2);
        }

        return (pairs, prefixes, shift);

        // After `depth` characters of the text (their key), the walk is at node `id` with `matched` characters of its label read.
        void Visit(int id, int matched, int depth, ulong key)
        {
            var step = _nodes[id];
            var state = matched == step.LabelLength && _lists[id].PathLength > 0 ? Reached : Open;
            if (depth == 2)
            {
                var pair = (int)key & 0x3FFF;
                pairs[pair >> 5] |= (ulong)state << ((pair & 31) * 2);
            }
            else if (depth > 2)
            {
                longer[key] = state;
            }

            if (state == Reached)
            {
                if (depth == 1)
                {
                    // Reached on the first character: every second character keeps the candidates.
                    for (var second = 0UL; second < 128; second++)
                    {
                        var pair = (int)((key << 7) | second) & 0x3FFF;
                        pairs[pair >> 5] |= (ulong)Reached << ((pair & 31) * 2);
                    }
                }

                return;
            }

            if (depth == FilterDepth)
            {
                return;
            }

            if (matched < step.LabelLength)
            {
                var c = _labels[step.LabelStart + matched];
                if (IsFoldedAscii(c))
                {
                    Visit(id, matched + 1, depth + 1, (key << 7) | c);
                }

                return;
            }

            for (var child = step.ChildStart; child < step.ChildStart + step.ChildCount; child++)
            {
                var c = _nodes[child].Key;
                if (IsFoldedAscii(c))
                {
                    Visit(child, 0, depth + 1, (key << 7) | c);
                }
            }
        }

        // The walk compares folded ASCII text: a key or label character beyond ASCII, or in upper case, is never equal to one.
        static bool IsFoldedAscii(char c) => c < 128 && c is not (>= 'A' and <= 'Z');
    }

    /// <summary>The first index from <paramref name="at"/> on that is not a word character (<see cref="TextMatching.IsWordChar"/>), or the text's length.</summary>
    private static int SkipWord(string text, int at)
    {
        while (at < text.Length && TextMatching.IsWordChar(text[at]))
        {
            at++;
        }

        return at;
    }

    /// <summary>
    /// For up to 64 plain-ASCII characters, bit i set when character i is a letter or digit (what <see cref="IsWordStart"/>
    /// tests with char.IsLetterOrDigit, which in ASCII is [A-Za-z0-9]), and when it is a word character (those and the
    /// apostrophe, <see cref="TextMatching.IsWordChar"/>); bits past the characters are 0.
    /// </summary>
    internal static (ulong Alnum, ulong Word) AsciiWordBits(ReadOnlySpan<char> block)
    {
        ulong alnum = 0, word = 0;
        var i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            ref var first = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetReference(block));
            for (; i + 8 <= block.Length; i += 8)
            {
                var chars = Vector128.LoadUnsafe(ref first, (nuint)i);
                var digit = Vector128.LessThan(chars - Vector128.Create((ushort)'0'), Vector128.Create((ushort)10));
                var folded = chars | Vector128.Create((ushort)0x20);
                var letter = Vector128.LessThan(folded - Vector128.Create((ushort)'a'), Vector128.Create((ushort)26));
                var apostrophe = Vector128.Equals(chars, Vector128.Create((ushort)'\''));
                alnum |= (ulong)(digit | letter).ExtractMostSignificantBits() << i;
                word |= (ulong)(digit | letter | apostrophe).ExtractMostSignificantBits() << i;
            }
        }

        for (; i < block.Length; i++)
        {
            var c = block[i];
            var isAlnum = char.IsAsciiLetterOrDigit(c);
            alnum |= (isAlnum ? 1UL : 0) << i;
            word |= (isAlnum || c == '\'' ? 1UL : 0) << i;
        }

        return (alnum, word);
    }

    /// <summary>Runs the members that could match here, in priority order; the first that matches wins.</summary>
    private bool TryMatchAt(string text, int position, ReadOnlySpan<int> always, out int owner, out int length)
    {
        // The candidates are the always-members plus the members of every prefix-tree node on the
        // path the text spells from here. Each node keeps its path's members merged and sorted, so the
        // walk only remembers the deepest node it reached, and the two sorted lists are merged as they run.
        ReadOnlySpan<int> path = [];
        var first = char.ToLowerInvariant(text[position]);
        var id = first < 128 ? _rootAscii[first] : FindChild(0, first);
        if (id < 0 && first >= 128 && char.IsDigit(first))
        {
            // A decimal digit beyond ASCII ("٣"): branches that start with \d are keyed by 0-9 only, but the regex's \d
            // matches every decimal digit, so every member of the tree stays a candidate here. Rare, so correct rather than fast.
            ref readonly var root = ref _lists[0];
            path = _candidates.AsSpan(root.WideStart, root.WideLength);
        }


        // Whether every node on the path was reached by ASCII text, compared as plain members compare it (see _info).
        var walked = text[position] < 128;
        if (id >= 0)
        {
            // The deepest node whose whole label the text spells (the root, with no candidates, until one is), and the node
            // whose subtree stays a candidate when the text leaves ASCII (-1 while it has not).
            var deepest = 0;
            var wideAt = -1;
            var i = position + 1;
            while (true)
            {
                // The step's key matched; the rest of the node's label must follow. Stopping inside the label leaves the
                // candidates of the node above (no member ends inside a label), or on leaving ASCII this node's subtree.
                var step = _nodes[id];
                var label = _labels.AsSpan(step.LabelStart, step.LabelLength);
                var k = 0;
                for (; k < label.Length && i < text.Length; k++, i++)
                {
                    var c = text[i];
                    if (c >= 128)
                    {
                        wideAt = id;
                        break;
                    }

                    if ((c is >= 'A' and <= 'Z' ? (char)(c | 0x20) : c) != label[k])
                    {
                        break;
                    }
                }

                if (wideAt >= 0 || k < label.Length)
                {
                    break;
                }

                deepest = id;
                if (i == text.Length)
                {
                    break;
                }

                var next = text[i];
                if (next >= 128)
                {
                    // The regex's case-insensitive comparison knows non-ASCII equivalents (the Kelvin
                    // sign is a k); rather than reproduce them, everything below here stays a candidate.
                    wideAt = id;
                    break;
                }

                id = FindChild(id, next is >= 'A' and <= 'Z' ? (char)(next | 0x20) : next);
                if (id < 0)
                {
                    break;
                }

                i++;
            }

            if (wideAt >= 0)
            {
                ref readonly var lists = ref _lists[wideAt];
                path = _candidates.AsSpan(lists.WideStart, lists.WideLength);
                walked = false;
            }
            else
            {
                ref readonly var lists = ref _lists[deepest];
                path = _candidates.AsSpan(lists.PathStart, lists.PathLength);
            }
        }

        var a = 0;
        var b = 0;
        while (a < always.Length || b < path.Length)
        {
            int index;
            var fromPath = false;
            if (b == path.Length || (a < always.Length && always[a] < path[b]))
            {
                index = always[a++];
            }
            else
            {
                index = path[b++];
                fromPath = true;
                if (a < always.Length && always[a] == index)
                {
                    a++;
                }
            }

            var info = _info[index];
            if (walked && fromPath && info.PlainLength > 0)
            {
                // A plain member on the walked path: its text is the text here; does the match end at a word's end?
                var end = position + info.PlainLength;
                if (end == text.Length || !IsLetterOrNumber(text[end]))
                {
                    owner = info.Owner;
                    length = info.PlainLength;
                    return true;
                }

                continue;
            }

            if (_members[index].TryMatch(text, position, out length))
            {
                owner = info.Owner;
                return true;
            }
        }

        owner = -1;
        length = 0;
        return false;
    }

    /// <summary>The child of node <paramref name="id"/> reached by <paramref name="key"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int FindChild(int id, char key)
    {
        var node = _nodes[id];
        var nodes = _nodes.AsSpan(node.ChildStart, node.ChildCount);
        for (var k = 0; k < nodes.Length; k++)
        {
            // The keys are sorted: past the key, it is not there.
            var at = nodes[k].Key;
            if (at == key)
            {
                return node.ChildStart + k;
            }

            if (at > key)
            {
                break;
            }
        }

        return -1;
    }

    /// <summary>
    /// Numbers the sealed tree breadth first and lays it out in arrays (see <see cref="_nodes"/>), each run of nodes with one
    /// child and no members of their own folded into the label of the node it leads to (see <see cref="StepNode"/>).
    /// </summary>
    private static (StepNode[] Nodes, CandidateLists[] Lists, int[] Candidates, char[] Labels) Flatten(Node root)
    {
        var order = new List<Node> { root };
        var keys = new List<char> { '\0' };
        var labels = new List<string> { "" };
        var nodes = new List<StepNode>();
        var lists = new List<CandidateLists>();
        var candidates = new List<int>();
        var text = new StringBuilder();
        for (var n = 0; n < order.Count; n++)
        {
            var node = order[n];
            var childStart = order.Count;
            for (var k = 0; k < node.Keys.Length; k++)
            {
                // A child with one child and no members only leads on: its key joins the label.
                var child = node.Children[k];
                var label = new StringBuilder();
                while (child.Members.Length == 0 && child.Keys.Length == 1)
                {
                    label.Append(child.Keys[0]);
                    child = child.Children[0];
                }

                order.Add(child);
                keys.Add(node.Keys[k]);
                labels.Add(label.ToString());
            }

            var pathStart = candidates.Count;
            candidates.AddRange(node.Path);
            var wideStart = candidates.Count;
            candidates.AddRange(node.PathAndSubtree);
            nodes.Add(new StepNode(childStart, text.Length, checked((ushort)node.Keys.Length), keys[n], checked((ushort)labels[n].Length)));
            text.Append(labels[n]);
            lists.Add(new CandidateLists(pathStart, node.Path.Length, wideStart, node.PathAndSubtree.Length));
        }

        return ([.. nodes], [.. lists], [.. candidates], text.ToString().ToCharArray());
    }

    private static bool IsWordStart(string text, int i) =>
        char.IsLetterOrDigit(text[i]) && (i == 0 || !char.IsLetterOrDigit(text[i - 1]));

    /// <summary>Whether a character ends a match: the patterns' <c>(?![\p{L}\p{N}])</c>.</summary>
    private static bool IsLetterOrNumber(char c) => char.GetUnicodeCategory(c) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => true,
        _ => false,
    };

    /// <summary>
    /// The literal texts (lower case; ASCII after the first character) one of which every match of
    /// the branch starts with, or null when this simple reading finds none of two characters or more.
    /// Groups are opened: "(?:monthly|annual) (?:care|support) plan" gives "monthly care plan",
    /// "monthly support plan", "annual care plan" and "annual support plan".
    /// </summary>
    internal static List<string>? LiteralPrefixes(string branch)
    {
        // Two readings, each giving beginnings every match has; the one whose shortest beginning is longer narrows more.
        var prefixes = Prefixes(branch, 0);
        if (Beginnings(branch, 0) is { Count: > 0 } beginnings && (prefixes.Count == 0 || beginnings.Min(b => b.Length) > prefixes.Min(p => p.Length)))
        {
            prefixes = beginnings;
        }

        return prefixes.Count == 0 || prefixes.Any(p => p.Length < 2) ? null : prefixes.Distinct().ToList();
    }

    /// <summary>How many beginnings <see cref="Beginnings"/> may give for one branch.</summary>
    private const int MaxBeginnings = 256;

    /// <summary>
    /// Necessary beginnings of any match of <paramref name="pattern"/> read element by element, through optional
    /// elements and small classes: "for (?:the )?(?:14|\d{2}) months" gives "for the 14", "for the 0" to "for the 9",
    /// "for 14" and "for 0" to "for 9". Why: <see cref="Prefixes"/> stops at the first optional group or class,
    /// which left "for " as the beginning of every "for ..." rule, so each of them ran as a regex after every "for" in
    /// a description. A reading stops where an element is not a few fixed texts (or after a repeated one), and before
    /// an element whose texts would make more than <see cref="MaxBeginnings"/> beginnings; null when it cannot read the branch.
    /// </summary>
    private static List<string>? Beginnings(string pattern, int depth)
    {
        if (pattern.Length > MaxReadableBranch || depth > 8)
        {
            return null;
        }

        List<string> result = [""];
        var at = 0;
        while (at < pattern.Length)
        {
            var c = pattern[at];
            List<string>? texts;
            var end = at + 1;
            var last = false;
            if (c == '(')
            {
                var close = MatchingParen(pattern, at);
                if (close < 0)
                {
                    return null;
                }

                var inner = pattern[(at + 1)..close];
                if (inner.StartsWith("?:", StringComparison.Ordinal))
                {
                    inner = inner[2..];
                }
                else if (inner.StartsWith('?'))
                {
                    break; // look-arounds, named groups, options: not read here
                }

                end = close + 1;
                texts = Phrases("(?:" + inner + ")", MaxBeginnings);
                if (texts is null)
                {
                    // Not a few fixed texts: the alternatives' own beginnings, and nothing after them is certain.
                    var parts = SplitTopLevel(inner).Select(a => Beginnings(a, depth + 1)).ToList();
                    if (parts.Any(p => p is null))
                    {
                        break;
                    }

                    texts = [.. parts.SelectMany(p => p!)];
                    last = true;
                }
            }
            else if (c == '[')
            {
                var probe = at;
                texts = ClassMembers(pattern, ref probe, MaxBeginnings);
                if (texts is null)
                {
                    break;
                }

                end = probe;
            }
            else if (c == '\\')
            {
                if (at + 1 >= pattern.Length)
                {
                    return null;
                }

                var e = pattern[at + 1];
                texts = e == 'd' ? [.. "0123456789".Select(d => d.ToString())] : char.IsLetterOrDigit(e) ? null : [e.ToString()];
                if (texts is null)
                {
                    break;
                }

                end = at + 2;
            }
            else if ("()[]{}?*+|.^$#".Contains(c, StringComparison.Ordinal))
            {
                break;
            }
            else
            {
                texts = [c.ToString()];
            }

            // The element's quantifier: optional ones add the empty text, repeated ones end the reading after them.
            var optional = false;
            if (end < pattern.Length && pattern[end] is '?' or '*' or '+' or '{')
            {
                var q = pattern[end];
                optional = q is '?' or '*';
                last |= q != '?';
                if (q == '{')
                {
                    var close = pattern.IndexOf('}', end);
                    if (close < 0)
                    {
                        return null;
                    }

                    optional = pattern[end + 1] == '0';
                    end = close;
                }

                end++;
            }

            if (optional)
            {
                texts = [.. texts, ""];
            }

            if (result.Count * texts.Count > MaxBeginnings)
            {
                break;
            }

            result = [.. result.SelectMany(head => texts.Select(tail => head + tail))];
            if (last)
            {
                break;
            }

            at = end;
        }

        return [.. result.Select(CaseFolded)];
    }

    /// <summary>
    /// A beginning as the walk compares it: lower case, and cut at its first character after the first that is neither
    /// ASCII nor a currency sign. The walk never steps on a non-ASCII character (it keeps everything below as candidates
    /// there), and a letter beyond ASCII may equal an ASCII one to the regex (the long s is an s); a currency sign has no case.
    /// </summary>
    private static string CaseFolded(string beginning)
    {
        var folded = beginning.ToLowerInvariant();
        for (var i = 1; i < folded.Length; i++)
        {
            if (folded[i] >= 128 && char.GetUnicodeCategory(folded[i]) != UnicodeCategory.CurrencySymbol)
            {
                return folded[..i];
            }
        }

        return folded;
    }

    /// <summary>Necessary beginnings of any match of <paramref name="pattern"/>; "" when nothing is certain.</summary>
    private static List<string> Prefixes(string pattern, int depth)
    {
        const int MaxPrefixes = 64;
        if (pattern.Length == 0 || depth > 8)
        {
            return [""];
        }

        if (pattern[0] != '(')
        {
            var (literal, whole, stop) = LiteralRun(pattern);
            if (whole || literal.Length == 0 || pattern[stop] != '(')
            {
                return [literal];
            }

            var rest = Prefixes(pattern[stop..], depth + 1);
            return rest.Select(r => Ascii(literal + r)).ToList();
        }

        var close = MatchingParen(pattern, 0);
        if (close < 0)
        {
            return [""];
        }

        var after = close + 1 < pattern.Length ? pattern[close + 1] : '\0';
        if (after is '?' or '*' or '{')
        {
            return [""];
        }

        var inner = pattern[1..close];
        if (inner.StartsWith("?:", StringComparison.Ordinal))
        {
            inner = inner[2..];
        }
        else if (inner.StartsWith("?<", StringComparison.Ordinal) && inner.Length > 2 && inner[2] != '=' && inner[2] != '!')
        {
            inner = inner[(inner.IndexOf('>', StringComparison.Ordinal) + 1)..];
        }
        else if (inner.StartsWith('?'))
        {
            return [""];
        }

        // After a repeated group ("(?:ab)+") only the first repetition is certain.
        var tail = after == '+' ? null : pattern[(close + 1)..];
        List<string>? tailPrefixes = null;
        var result = new List<string>();
        foreach (var alternative in SplitTopLevel(inner))
        {
            var (literal, whole, _) = LiteralRun(alternative);
            if (whole && tail is not null && literal.Skip(1).All(c => c < 128))
            {
                tailPrefixes ??= Prefixes(tail, depth + 1);
                result.AddRange(tailPrefixes.Select(t => Ascii(literal + t)));
            }
            else
            {
                result.AddRange(Prefixes(alternative, depth + 1));
            }

            if (result.Count > MaxPrefixes)
            {
                // Too many combinations: the group's own beginnings are enough.
                return SplitTopLevel(inner).SelectMany(a => Prefixes(a, depth + 1)).ToList();
            }
        }

        return result;
    }

    /// <summary>Cuts a prefix at its first non-ASCII character after the first (see the scan's case folding).</summary>
    private static string Ascii(string prefix)
    {
        for (var i = 1; i < prefix.Length; i++)
        {
            if (prefix[i] >= 128)
            {
                return prefix[..i];
            }
        }

        return prefix;
    }

    /// <summary>
    /// The plain text the branch starts with (lower case; after the first character ASCII only),
    /// whether that text is the whole branch, and where it stopped. A character followed by a
    /// quantifier is left out.
    /// </summary>
    internal static (string Literal, bool Whole, int Stop) LiteralRun(string branch)
    {
        var text = new StringBuilder();
        var i = 0;
        while (i < branch.Length)
        {
            char c;
            int next;
            if (branch[i] == '\\')
            {
                if (i + 1 >= branch.Length || char.IsLetterOrDigit(branch[i + 1]))
                {
                    break;
                }

                c = branch[i + 1];
                next = i + 2;
            }
            else if ("()[]{}?*+|.^$#".Contains(branch[i], StringComparison.Ordinal))
            {
                break;
            }
            else
            {
                c = branch[i];
                next = i + 1;
            }

            if (next < branch.Length && branch[next] is '?' or '*' or '+' or '{')
            {
                return (text.ToString(), false, i);
            }

            if (text.Length > 0 && c >= 128)
            {
                break;
            }

            text.Append(char.ToLowerInvariant(c));
            i = next;
        }

        return (text.ToString(), i == branch.Length, i);
    }

    /// <summary>
    /// The longest plain text (3 characters or more, ASCII) that every match of the branch contains
    /// outside any group: "(?:[\\w-]+ )?(?:contract|agreement) until (?:19|20)\\d\\d" needs "until ".
    /// Null when there is none.
    /// </summary>
    internal static string? RequiredLiteral(string branch)
    {
        string? best = null;
        var run = new StringBuilder();
        void Flush()
        {
            if (run.Length >= 3 && (best is null || run.Length > best.Length))
            {
                best = run.ToString();
            }

            run.Clear();
        }

        var i = 0;
        while (i < branch.Length)
        {
            var c = branch[i];
            int next;
            char? literal = null;
            if (c == '(')
            {
                var close = MatchingParen(branch, i);
                if (close < 0)
                {
                    return null;
                }

                next = close + 1;
            }
            else if (c == '[')
            {
                // The class ends at the first unescaped ']' after its first member.
                var close = i + 2;
                while (close < branch.Length && branch[close] != ']')
                {
                    close += branch[close] == '\\' ? 2 : 1;
                }

                if (close >= branch.Length)
                {
                    return null;
                }

                next = close + 1;
            }
            else if (c == '\\')
            {
                if (i + 1 >= branch.Length)
                {
                    return null;
                }

                literal = char.IsLetterOrDigit(branch[i + 1]) ? null : branch[i + 1];
                next = i + 2;
            }
            else if ("){}?*+|.^$#]".Contains(c, StringComparison.Ordinal))
            {
                return null;
            }
            else
            {
                literal = c;
                next = i + 1;
            }

            var quantified = next < branch.Length && branch[next] is '?' or '*' or '+' or '{';
            if (literal is { } l && !quantified && l < 128)
            {
                run.Append(char.ToLowerInvariant(l));
            }
            else
            {
                Flush();
            }

            if (quantified)
            {
                // Skip the quantifier ({m,n} and a lazy '?').
                next = branch[next] == '{' ? branch.IndexOf('}', next) + 1 : next + 1;
                if (next <= 0)
                {
                    return null;
                }

                if (next < branch.Length && branch[next] == '?')
                {
                    next++;
                }
            }

            i = next;
        }

        Flush();
        return best;
    }

    /// <summary>How many members one top-level alternative may become by <see cref="ExpandLeadingGroups"/>.</summary>
    private const int MaxExpansion = 32;

    /// <summary>
    /// Rewrites a branch that starts with a group into one branch per alternative of that group, in
    /// order: "(?:several|\d) times" becomes "several times" and "\d times"; an optional group
    /// "(?:key )?account" becomes "key account" and "account". Tried in that order at one position,
    /// they give the same first match as the original (a regex tries a group's alternatives in order,
    /// and a greedy optional group first with, then without), but each now has its own beginning,
    /// so the prefix tree runs "\d times" only before digits instead of before every word that starts
    /// like one of its siblings. Quantified (other than a plain <c>?</c>), lazy, named and
    /// look-around groups are left alone, as is anything that would exceed <paramref name="limit"/> branches.
    /// </summary>
    internal static List<string> ExpandLeadingGroups(string branch, int limit)
    {
        // Rules are short phrases; a huge branch (a pasted document, deep nesting) stays whole rather than
        // costing time or stack here.
        if (branch.Length == 0 || branch[0] != '(' || branch.Length > MaxReadableBranch)
        {
            return [branch];
        }

        var close = MatchingParen(branch, 0);
        if (close < 0)
        {
            return [branch];
        }

        var inner = branch[1..close];
        if (inner.StartsWith("?:", StringComparison.Ordinal))
        {
            inner = inner[2..];
        }
        else if (inner.StartsWith('?'))
        {
            return [branch];
        }

        var rest = branch[(close + 1)..];
        var optional = false;
        if (rest.Length > 0 && rest[0] is '*' or '+' or '{')
        {
            return [branch];
        }

        if (rest.Length > 0 && rest[0] == '?')
        {
            if (rest.Length > 1 && rest[1] == '?')
            {
                return [branch];
            }

            optional = true;
            rest = rest[1..];
        }

        var alternatives = SplitTopLevel(inner);
        if (alternatives.Count + (optional ? 1 : 0) > limit)
        {
            return [branch];
        }

        var heads = optional ? [.. alternatives, ""] : alternatives;
        var expanded = new List<string>();
        foreach (var head in heads)
        {
            // An alternative has no top-level '|', so writing it in front of the rest means the same as the group did.
            var candidate = head + rest;
            expanded.AddRange(candidate.StartsWith('(') ? ExpandLeadingGroups(candidate, limit) : [candidate]);
            if (expanded.Count > limit)
            {
                return [branch];
            }
        }

        return expanded;
    }

    /// <summary>
    /// The longest branch the build-time readings (splitting, phrases, first characters) take apart. Their work grows
    /// faster than the branch and they recurse into groups, so a pasted document or a deeply nested pattern in a
    /// draft rule set would otherwise cost seconds or the stack; past this length a branch is simply one regex.
    /// </summary>
    private const int MaxReadableBranch = 1024;

    /// <summary>How many fixed phrases one branch may become by <see cref="Phrases"/>.</summary>
    private const int MaxPhrases = 64;

    /// <summary>
    /// Every text the branch can match, in the order the regex would try them, when it is built only
    /// from plain characters, escaped punctuation, groups of alternatives and the greedy <c>?</c>:
    /// "meet(?:s|ing|ings)?" gives "meets", "meeting", "meetings", "meet". Tried in that order (each
    /// followed by the end of a word), the first that fits is the regex's match: a backtracking regex
    /// explores exactly these paths in exactly this order. Null for anything else (classes, \d,
    /// repeats, look-arounds) or more than <paramref name="limit"/> phrases. The empty phrase, when
    /// possible, is listed too; it can never match at a word start.
    /// </summary>
    internal static List<string>? Phrases(string branch, int limit)
    {
        if (branch.Length > MaxReadableBranch)
        {
            return null;
        }

        var at = 0;
        var result = Sequence(branch, ref at, limit);
        return result is not null && at == branch.Length ? result : null;

        static List<string>? Sequence(string p, ref int at, int limit)
        {
            List<string> sequence = [""];
            while (at < p.Length && p[at] is not ('|' or ')'))
            {
                List<string>? atom;
                var c = p[at];
                if (c == '(')
                {
                    at++;
                    if (p.AsSpan(at).StartsWith("?:"))
                    {
                        at += 2;
                    }
                    else if (at < p.Length && p[at] == '?')
                    {
                        return null;
                    }

                    atom = [];
                    while (true)
                    {
                        var alternative = Sequence(p, ref at, limit);
                        if (alternative is null || at >= p.Length)
                        {
                            return null;
                        }

                        atom.AddRange(alternative);
                        if (p[at++] == ')')
                        {
                            break;
                        }
                    }
                }
                else if (c == '\\')
                {
                    if (at + 1 >= p.Length || char.IsLetterOrDigit(p[at + 1]))
                    {
                        return null;
                    }

                    atom = [p[at + 1].ToString()];
                    at += 2;
                }
                else if (c == '[')
                {
                    // A class of plain characters ("[- ]", "[4-9]") is one character of a few: each is a phrase of its own.
                    atom = ClassMembers(p, ref at, limit);
                    if (atom is null)
                    {
                        return null;
                    }
                }
                else if ("].^$*+{}?#".Contains(c, StringComparison.Ordinal))
                {
                    return null;
                }
                else
                {
                    atom = [c.ToString()];
                    at++;
                }

                if (at < p.Length && p[at] is '*' or '+' or '{')
                {
                    return null;
                }

                if (at < p.Length && p[at] == '?')
                {
                    if (at + 1 < p.Length && p[at + 1] == '?')
                    {
                        return null; // lazy: tries without first; not needed by any rule, so not read
                    }

                    atom.Add("");
                    at++;
                }

                if (sequence.Count * atom.Count > limit)
                {
                    return null;
                }

                sequence = [.. sequence.SelectMany(head => atom.Select(tail => head + tail))];
            }

            return sequence;
        }
    }

    /// <summary>
    /// The characters of the class at p[at] (moving at past it), when it lists only plain characters and ranges of
    /// them, at most limit in all; null for negated classes, escapes, subtractions and anything longer.
    /// </summary>
    private static List<string>? ClassMembers(string p, ref int at, int limit)
    {
        var close = at + 2 <= p.Length ? p.IndexOf(']', at + 2) : -1;
        if (close < 0 || p[at + 1] == '^')
        {
            return null;
        }

        var set = p.AsSpan(at + 1, close - at - 1);
        if (set.ContainsAny('\\', '['))
        {
            return null;
        }

        var members = new List<string>();
        for (var i = 0; i < set.Length; i++)
        {
            var range = i + 2 < set.Length && set[i + 1] == '-';
            var (low, high) = range ? (set[i], set[i + 2]) : (set[i], set[i]);
            if (high < low || high - low >= limit)
            {
                return null;
            }

            for (var x = low; x <= high; x++)
            {
                members.Add(x.ToString());
            }

            if (range)
            {
                i += 2;
            }

            if (members.Count > limit)
            {
                return null;
            }
        }

        at = close + 1;
        return members;
    }

    /// <summary>Splits a pattern at its top-level <c>|</c>, respecting groups, classes and escapes.</summary>
    internal static List<string> SplitTopLevel(string pattern)
    {
        var parts = new List<string>();
        var depth = 0;
        var start = 0;
        foreach (var (i, c) in Structure(pattern, 0))
        {
            depth += c switch { '(' => 1, ')' => -1, _ => 0 };
            if (c == '|' && depth == 0)
            {
                parts.Add(pattern[start..i]);
                start = i + 1;
            }
        }

        parts.Add(pattern[start..]);
        return parts;
    }

    /// <summary>
    /// The lower-case characters a pattern can start with, or null when it could start with
    /// anything this simple reading cannot tell (such patterns are tried at every word start).
    /// </summary>
    internal static HashSet<char>? FirstChars(string pattern)
    {
        if (pattern.Length > MaxReadableBranch)
        {
            return null; // tried at every word start, like any pattern this reading cannot tell
        }

        var result = new HashSet<char>();
        return Collect(pattern, 0, result) ? result : null;
    }

    /// <summary>Adds the possible first characters from <paramref name="at"/>; false when unknown.</summary>
    private static bool Collect(string p, int at, HashSet<char> into)
    {
        while (at < p.Length)
        {
            var c = p[at];
            int next;
            var added = new HashSet<char>();
            if (c == '(')
            {
                var close = MatchingParen(p, at);
                if (close < 0)
                {
                    return false;
                }

                var inner = p[(at + 1)..close];
                if (inner.StartsWith("?:", StringComparison.Ordinal))
                {
                    inner = inner[2..];
                }
                else if (inner.StartsWith("?<", StringComparison.Ordinal) && inner.Length > 2 && inner[2] != '=' && inner[2] != '!')
                {
                    inner = inner[(inner.IndexOf('>', StringComparison.Ordinal) + 1)..];
                }
                else if (inner.StartsWith('?'))
                {
                    return false; // lookarounds and other constructs: not read here
                }

                foreach (var branch in SplitTopLevel(inner))
                {
                    if (branch.Length == 0 || !Collect(branch, 0, added))
                    {
                        return false;
                    }
                }

                next = close + 1;
            }
            else if (c == '[')
            {
                var close = p.IndexOf(']', at + 1);
                if (close < 0 || p[at + 1] == '^' || p.AsSpan(at + 1, close - at - 1).Contains('\\'))
                {
                    return false;
                }

                var set = p[(at + 1)..close];
                for (var i = 0; i < set.Length; i++)
                {
                    if (i + 2 < set.Length && set[i + 1] == '-')
                    {
                        for (var x = set[i]; x <= set[i + 2]; x++)
                        {
                            added.Add(char.ToLowerInvariant(x));
                        }

                        i += 2;
                    }
                    else
                    {
                        added.Add(char.ToLowerInvariant(set[i]));
                    }
                }

                next = close + 1;
            }
            else if (c == '\\')
            {
                if (at + 1 >= p.Length)
                {
                    return false;
                }

                var e = p[at + 1];
                if (e == 'd')
                {
                    for (var x = '0'; x <= '9'; x++)
                    {
                        added.Add(x);
                    }
                }
                else if (!char.IsLetterOrDigit(e))
                {
                    added.Add(e);
                }
                else
                {
                    return false;
                }

                next = at + 2;
            }
            else if (char.IsLetterOrDigit(c) || c is '\'' or '-' or ' ' or '&' or '£' or '$')
            {
                added.Add(char.ToLowerInvariant(c));
                next = at + 1;
            }
            else
            {
                return false;
            }

            into.UnionWith(added);
            var optional = next < p.Length && (p[next] == '?' || p[next] == '*' || (p[next] == '{' && p.AsSpan(next).StartsWith("{0")));
            if (!optional)
            {
                return true;
            }

            // Skip the quantifier, then the following element can also come first.
            next++;
            if (p[next - 1] == '{')
            {
                next = p.IndexOf('}', next) + 1;
            }

            if (next < p.Length && p[next] == '?')
            {
                next++;
            }

            at = next;
        }

        return false; // the whole pattern is optional: it could match the empty string
    }

    private static int MatchingParen(string p, int open)
    {
        var depth = 0;
        foreach (var (i, c) in Structure(p, open))
        {
            depth += c switch { '(' => 1, ')' => -1, _ => 0 };
            if (c == ')' && depth == 0)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// The characters of a pattern that shape it: everything outside escapes and character classes,
    /// with its index. Only reading patterns at build time uses it, so it can be an iterator.
    /// </summary>
    private static IEnumerable<(int Index, char Char)> Structure(string p, int from)
    {
        var inClass = false;
        for (var i = from; i < p.Length; i++)
        {
            var c = p[i];
            if (c == '\\')
            {
                i++;
            }
            else if (inClass)
            {
                inClass = c != ']';
            }
            else if (c == '[')
            {
                inClass = true;
            }
            else
            {
                yield return (i, c);
            }
        }
    }

    /// <summary>One top-level alternative of a pattern: plain text compared directly, or a small anchored regex.</summary>
    private sealed class Member
    {
        private readonly string? _literal;
        private Regex? _regex;
        private int _uses;

        private Member(int owner, string branch, string? literal, Regex? regex)
        {
            Owner = owner;
            Branch = branch;
            _literal = literal;
            _regex = regex;
        }

        public int Owner { get; }

        public string Branch { get; }

        /// <summary>The length of the member's text when it is plain ASCII text, compared directly; 0 when it is a regex.</summary>
        public int PlainLength => _literal?.Length ?? 0;

        public static Member Create(int owner, string branch)
        {
            var (literal, whole, _) = LiteralRun(branch);
            var isLiteral = whole && literal.Length > 0 && literal.All(c => c < 128);

            // A plain phrase needs its regex only for non-ASCII text (case folding beyond ASCII), which is
            // rare: build it then. Any other branch is built now, so a bad pattern fails at build time.
            return new Member(owner, branch, isLiteral ? literal : null, isLiteral ? null : BuildRegex(branch, RegexOptions.None));
        }

        private static Regex BuildRegex(string branch, RegexOptions extra) =>
            new(@"\G(?:" + branch + @")(?![\p{L}\p{N}])", Options | extra, MatchTimeout);

        public bool TryMatch(string text, int position, out int length)
        {
            if (_literal is { } literal)
            {
                length = literal.Length;
                if (position + literal.Length > text.Length)
                {
                    return false;
                }

                var span = text.AsSpan(position, literal.Length);
                if (System.Text.Ascii.IsValid(span))
                {
                    return span.Equals(literal, StringComparison.OrdinalIgnoreCase)
                        && (position + literal.Length == text.Length || !IsLetterOrNumber(text[position + literal.Length]));
                }
            }

            var regex = Volatile.Read(ref _regex);
            if (regex is null)
            {
                regex = BuildRegex(Branch, RegexOptions.None);
                regex = Interlocked.CompareExchange(ref _regex, regex, null) ?? regex;
            }

            if ((regex.Options & RegexOptions.Compiled) == 0 && Interlocked.Increment(ref _uses) == CompileAfterUses)
            {
                // Same pattern and options, compiled: identical matches, several times faster.
                regex = BuildRegex(Branch, RegexOptions.Compiled);
                Volatile.Write(ref _regex, regex);
            }

            foreach (var match in regex.EnumerateMatches(text.AsSpan(), position))
            {
                length = match.Length;
                return match.Index == position;
            }

            length = 0;
            return false;
        }
    }

    /// <summary>
    /// Matches found by a scan, in an array rented from the shared pool: a description's scan ran on every
    /// ClassifyBuyer(description) call and allocated a list and its array for them each time. Dispose returns the array.
    /// </summary>
    internal struct MatchBuffer : IDisposable
    {
        private (int Owner, int Start, int Length)[] _items;

        /// <param name="textLength">The scanned text's length: about one match per twenty characters in ordinary descriptions.</param>
        public MatchBuffer(int textLength)
        {
            _items = ArrayPool<(int Owner, int Start, int Length)>.Shared.Rent(Math.Min(256, 4 + (textLength / 20)));
        }

        public int Count { get; private set; }

        /// <summary>
        /// Whether the scanned text is plain ASCII, as the scan found out on its way (it picks its reading by it): the
        /// negation look-back after it reads such text eight characters at a time (<see cref="SignalExtractor"/>) without
        /// checking the text again.
        /// </summary>
        public bool TextIsAscii { get; set; }

        public readonly ReadOnlySpan<(int Owner, int Start, int Length)> Items => _items.AsSpan(0, Count);

        public void Add(int owner, int start, int length)
        {
            if (Count == _items.Length)
            {
                var larger = ArrayPool<(int Owner, int Start, int Length)>.Shared.Rent(_items.Length * 2);
                _items.AsSpan(0, Count).CopyTo(larger);
                ArrayPool<(int Owner, int Start, int Length)>.Shared.Return(_items);
                _items = larger;
            }

            _items[Count++] = (owner, start, length);
        }

        /// <summary>Replaces the item at <paramref name="index"/> (below <see cref="Count"/>).</summary>
        public readonly void Set(int index, int owner, int start, int length)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count);
            _items[index] = (owner, start, length);
        }

        /// <summary>Keeps the first <paramref name="count"/> items.</summary>
        public void Truncate(int count)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)count, (uint)Count);
            Count = count;
        }

        public void Dispose()
        {
            if (_items is { Length: > 0 } items)
            {
                _items = [];
                Count = 0;
                ArrayPool<(int Owner, int Start, int Length)>.Shared.Return(items);
            }
        }
    }

    /// <summary>
    /// One node of the flattened tree as a step down it reads it: its children are nodes <c>ChildStart</c> to
    /// <c>ChildStart + ChildCount - 1</c>; <c>Key</c> is the character that leads here from its parent, and the
    /// <c>LabelLength</c> characters at <c>LabelStart</c> in <see cref="_labels"/> must follow it. Why labels: most of the
    /// prefix tree is chains of one child each ("ngagement letter"), and a walk down a chain read one node per character,
    /// each read waiting on the one before; under load those reads missed the cache. A label is read in one go.
    /// </summary>
    private readonly record struct StepNode(int ChildStart, int LabelStart, ushort ChildCount, char Key, ushort LabelLength);

    /// <summary>A node's <see cref="Node.Path"/> and <see cref="Node.PathAndSubtree"/> as runs of <see cref="_candidates"/>.</summary>
    private readonly record struct CandidateLists(int PathStart, int PathLength, int WideStart, int WideLength);

    /// <summary>A member's owner, and the length of its text when it is plain ASCII text (else 0).</summary>
    private readonly record struct MemberInfo(int Owner, int PlainLength);

    /// <summary>A node of the prefix tree while it is built: the members whose literal beginning ends here, and the longer ones below.</summary>
    private sealed class Node
    {
        private readonly Dictionary<char, Node> _children = [];
        private readonly SortedSet<int> _adding = [];
        private char[] _keys = [];
        private Node[] _nodes = [];

        /// <summary>The members whose literal beginning ends at this node, in priority order.</summary>
        public int[] Members { get; private set; } = [];

        /// <summary>The children's keys, sorted; <see cref="Children"/> in the same order.</summary>
        public char[] Keys => _keys;

        public Node[] Children => _nodes;

        /// <summary>The members of this node and every node below it, in priority order.</summary>
        public int[] Subtree { get; private set; } = [];

        public Node Child(char key)
        {
            if (!_children.TryGetValue(key, out var child))
            {
                child = new Node();
                _children[key] = child;
            }

            return child;
        }

        public void Add(int member) => _adding.Add(member);

        /// <summary>
        /// The members of every node from the root's child down to this one, in priority order: the candidates
        /// when the text spells this node's prefix and goes no further down the tree.
        /// </summary>
        public int[] Path { get; private set; } = [];

        /// <summary><see cref="Path"/> and <see cref="Subtree"/> together: the candidates when the text leaves ASCII after this node.</summary>
        public int[] PathAndSubtree { get; private set; } = [];

        /// <summary>
        /// Freezes the children and member lists into arrays and computes each subtree's members and each
        /// node's path members (call on the root).
        /// </summary>
        public void Seal()
        {
            SealSubtree();

            // The root has no members of its own, so its path is empty and its PathAndSubtree is every member in the tree:
            // the candidates at a word start the tree cannot key (a decimal digit beyond ASCII, see TryMatchAt).
            SealPath([]);
        }

        private int[] SealSubtree()
        {
            // Sorted, so a node's keys are searched in one vectorised scan of a short array.
            _keys = [.. _children.Keys.Order()];
            _nodes = [.. _keys.Select(k => _children[k])];
            Members = [.. _adding];
            var subtree = new SortedSet<int>(_adding);
            foreach (var child in _nodes)
            {
                subtree.UnionWith(child.SealSubtree());
            }

            Subtree = [.. subtree];
            return Subtree;
        }

        private void SealPath(int[] above)
        {
            Path = [.. new SortedSet<int>(above.Concat(Members))];
            PathAndSubtree = [.. new SortedSet<int>(Path.Concat(Subtree))];
            foreach (var child in _nodes)
            {
                child.SealPath(Path);
            }
        }
    }
}
