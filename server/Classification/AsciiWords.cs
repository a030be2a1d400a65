using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Advisor.Server.Classification;

/// <summary>
/// Reads the word that ends at a position of plain-ASCII text backwards, as the negation look-back reads words (a run of
/// <see cref="ShortWordTable.IsKeyChar"/> characters), and gives it with its <see cref="ShortWordTable"/> key. Why: read a
/// character at a time, each word cost a bit test and a key step per character and a loop exit that depends on the word's
/// length, which the branch predictor cannot learn from the few look-backs a description makes. Here the eight characters
/// before the word's end are loaded at once, the word's start is the last of them that is not a word character (one mask,
/// one count of leading bits), and its key is those characters' low seven bits gathered by one instruction (BMI2's
/// PEXT): no loop for a word of up to eight characters, which nearly every word is.
/// </summary>
internal static class AsciiWords
{
    /// <summary>Whether this machine has what <see cref="Before"/> needs (else the look-back reads a character at a time).</summary>
    public static bool IsSupported => Bmi2.X64.IsSupported && Vector128.IsHardwareAccelerated;

    /// <summary>The low seven bits of each of eight bytes: where <see cref="ShortWordTable.Append"/> keeps each character.</summary>
    private const ulong SevenBitsPerByte = 0x7F7F_7F7F_7F7F_7F7F;

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
    /// the low end (its first character lowest, as reading backwards leaves it), then seven bits gathered from each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Key(Vector128<ushort> folded, int length)
    {
        var bytes = Vector128.Narrow(folded, folded).AsUInt64().ToScalar();
        return Bmi2.X64.ParallelBitExtract(bytes >> (8 * (8 - length)), SevenBitsPerByte);
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
