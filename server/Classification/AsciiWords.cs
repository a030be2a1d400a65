using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Advisor.Server.Classification;

/// <summary>
/// Reads the word that ends at a position of plain-ASCII text backwards, as the negation look-back reads words (a run of
/// <see cref="ShortWordTable.IsKeyChar"/> characters), and gives it with its <see cref="ShortWordTable"/> key. Why: read a
/// character at a time, each word cost a bit test and a key step per character and a loop exit that depends on the word's
/// length, which the branch predictor cannot learn from the few look-backs a description makes. Here the eight characters
/// before the word's end are loaded at once, the word's start is the last of them that is not a word character (one mask,
/// one count of leading bits), and its key is those characters' low seven bits packed together by a few shifts and masks:
/// no loop for a word of up to eight characters, which nearly every word is. The packing is what BMI2's PEXT does with
/// the mask 0x7F7F…, written out because PEXT is microcoded on AMD processors before Zen 3 (hundreds of cycles with a mask
/// this dense), where it would have cost more than the loop it replaces.
/// </summary>
internal static class AsciiWords
{
    /// <summary>Whether this machine has what <see cref="Before"/> needs (else the look-back reads a character at a time).</summary>
    public static bool IsSupported => Vector128.IsHardwareAccelerated;

    /// <summary>
    /// The length of the word ending at <paramref name="end"/> (whose last character, at <c>end - 1</c>, must be a word
    /// character) and, when it is at most <see cref="ShortWordTable.MaxLength"/> characters long, its key as
    /// <see cref="ShortWordTable.Append"/> builds it reading the word backwards. The text must be plain ASCII and
    /// <see cref="IsSupported"/> true.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (int Length, ulong Key) Before(string text, int end)
    {
        if (end < 8)
        {
            return BeforeByCharacter(text, end);
        }

        ref var first = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetReference(text.AsSpan()));
        var chars = Vector128.LoadUnsafe(ref first, (nuint)(end - 8));

        // Bit i for the character at end - 8 + i when it is a word character (a letter, a digit or an apostrophe).
        var folded = chars | Vector128.Create((ushort)0x20);
        var letters = Vector128.LessThan(folded - Vector128.Create((ushort)'a'), Vector128.Create((ushort)26));
        var digits = Vector128.LessThan(chars - Vector128.Create((ushort)'0'), Vector128.Create((ushort)10));
        var apostrophes = Vector128.Equals(chars, Vector128.Create((ushort)'\''));
        var others = ~(letters | digits | apostrophes).ExtractMostSignificantBits() & 0xFF;
        if (others == 0)
        {
            // Eight word characters or more: the word goes on before them (rare; read on a character at a time).
            var start = end - 8;
            while (start > 0 && ShortWordTable.IsKeyChar(text[start - 1]))
            {
                start--;
            }

            return (end - start, start == end - 8 ? Key(folded, 8) : 0);
        }

        // The last non-word character is at bit 31 - LeadingZeroCount; the word is the characters above it.
        var length = 7 - (31 - BitOperations.LeadingZeroCount(others));
        return (length, Key(folded, length));
    }

    /// <summary>
    /// The key of the last <paramref name="length"/> (1 to 8) of the eight characters in <paramref name="folded"/> (each
    /// OR 0x20, as <see cref="ShortWordTable.Append"/> folds them): the characters narrowed to bytes, the word's moved to
    /// the low end (its first character lowest, as reading backwards leaves it), then the low seven bits of each byte
    /// packed together (<see cref="PackSevenBits"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Key(Vector128<ushort> folded, int length)
    {
        var bytes = Vector128.Narrow(folded, folded).AsUInt64().ToScalar();
        return PackSevenBits(bytes >> (8 * (8 - length)));
    }

    /// <summary>
    /// The low seven bits of each of the eight bytes of <paramref name="bytes"/>, packed in order into 56 bits (byte i's at
    /// bits 7i to 7i + 6): what <see cref="ShortWordTable.Append"/> keeps of each character. Neighbouring bytes, then
    /// 14-bit halves, then 28-bit halves are closed up, one step each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong PackSevenBits(ulong bytes)
    {
        var x = bytes & 0x7F7F_7F7F_7F7F_7F7FUL;
        x = (x & 0x007F_007F_007F_007FUL) | ((x & 0x7F00_7F00_7F00_7F00UL) >> 1);
        x = (x & 0x0000_3FFF_0000_3FFFUL) | ((x & 0x3FFF_0000_3FFF_0000UL) >> 2);
        return (x & 0x0000_0000_0FFF_FFFFUL) | ((x & 0x0FFF_FFFF_0000_0000UL) >> 4);
    }

    /// <summary>The same reading a character at a time, for a word that ends within the text's first eight characters.</summary>
    private static (int Length, ulong Key) BeforeByCharacter(string text, int end)
    {
        var start = end;
        ulong key = 0;
        while (start > 0 && ShortWordTable.IsKeyChar(text[start - 1]))
        {
            key = ShortWordTable.Append(key, text[start - 1]);
            start--;
        }

        return (end - start, key);
    }
}
