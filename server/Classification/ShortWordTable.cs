using System.Runtime.CompilerServices;

namespace Advisor.Server.Classification;

/// <summary>
/// A set of short plain-ASCII words (the negation cues and clause-break words), each with a kind, found case-insensitively
/// by a key the caller builds while it reads a word: seven bits per lower-cased character (<see cref="Append"/>), so a
/// word of up to <see cref="MaxLength"/> characters is one 56-bit number, looked up by one multiplication in a table of
/// 64-bit entries chosen free of collisions when the table is built. Why: the negation look-back reads up to five words
/// before every match, and a hash set with case-insensitive comparison hashed (twice) each word whose first character
/// and length fit a cue or break word, which everyday words such as "need", "all" and "retainer" do.
/// </summary>
internal sealed class ShortWordTable
{
    /// <summary>The longest word the table holds (seven bits per character in 56 bits).</summary>
    public const int MaxLength = 8;

    private const ulong KeyMask = (1UL << 56) - 1;

    private readonly ulong[] _entries;
    private readonly ulong _multiplier;
    private readonly int _shift;

    private ShortWordTable(ulong[] entries, ulong multiplier, int shift) => (_entries, _multiplier, _shift) = (entries, multiplier, shift);

    /// <summary>The key of a word read so far with <paramref name="c"/> (a letter, digit or apostrophe below 128) read next.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Append(ulong key, char c) => (key << 7) | (uint)(c | 0x20);

    /// <summary>The apostrophe and the digits, by bit (characters 0 to 63).</summary>
    private const ulong KeyCharsBelow64 = (1UL << '\'') | (0x3FFUL << '0');

    /// <summary>The ASCII letters, by bit (characters 64 to 127).</summary>
    private const ulong KeyCharsFrom64 = (0x3FFFFFFUL << ('A' - 64)) | (0x3FFFFFFUL << ('a' - 64));

    /// <summary>Whether <paramref name="c"/> is a character a word's key can hold: an ASCII letter, digit or apostrophe (by bit, called per character read).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsKeyChar(char c) => c < 128 && (((c < 64 ? KeyCharsBelow64 : KeyCharsFrom64) >> (c & 63)) & 1) != 0;

    /// <summary>
    /// The table of <paramref name="words"/> (the first kind given for a word wins), or null when one of them is not plain
    /// ASCII or is longer than <see cref="MaxLength"/>: a case-insensitive comparison beyond ASCII folds characters the
    /// key does not, so the caller must then compare as it did. Words holding other characters than
    /// <see cref="IsKeyChar"/> can never be read as one word and are left out.
    /// </summary>
    /// <param name="words">The words, each with its kind (1 to 255), in order of precedence.</param>
    public static ShortWordTable? Create(IEnumerable<(string Word, byte Kind)> words)
    {
        var kinds = new Dictionary<ulong, byte>();
        foreach (var (word, kind) in words)
        {
            if (!System.Text.Ascii.IsValid(word) || word.Length > MaxLength)
            {
                return null;
            }

            if (word.Length == 0 || !word.All(IsKeyChar))
            {
                continue;
            }

            // The key is built reading the word backwards, as the look-back reads it.
            ulong key = 0;
            for (var i = word.Length - 1; i >= 0; i--)
            {
                key = Append(key, word[i]);
            }

            kinds.TryAdd(key, kind);
        }

        // Room for four times the words, and a multiplier that sends no two of them to the same slot; a larger table when
        // none is found (a fixed seed: the same words give the same table).
        var random = new Random(8);
        for (var bits = Math.Max(4, (int)Math.Ceiling(Math.Log2(Math.Max(1, kinds.Count) * 4))); ; bits++)
        {
            for (var attempt = 0; attempt < 1000; attempt++)
            {
                var multiplier = (ulong)random.NextInt64() | 1;
                var entries = new ulong[1 << bits];
                var clear = true;
                foreach (var (key, kind) in kinds)
                {
                    ref var entry = ref entries[(key * multiplier) >> (64 - bits)];
                    if (entry != 0)
                    {
                        clear = false;
                        break;
                    }

                    entry = key | ((ulong)kind << 56);
                }

                if (clear)
                {
                    return new ShortWordTable(entries, multiplier, 64 - bits);
                }
            }
        }
    }

    /// <summary>The kind of the word whose key (<see cref="Append"/>, read backwards, at most <see cref="MaxLength"/> characters) is <paramref name="key"/>; 0 when it is not listed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Find(ulong key)
    {
        var entry = _entries[(key * _multiplier) >> _shift];
        return (entry & KeyMask) == key ? (byte)(entry >> 56) : (byte)0;
    }
}
