using System.Text;
using NSec.Cryptography;

namespace Advisor.Bot.Discord;

/// <summary>Discord interaction signatures: Ed25519 over timestamp + raw body, with the application's hex public key.</summary>
public sealed class DiscordSignature
{
    private static readonly SignatureAlgorithm Ed25519 = SignatureAlgorithm.Ed25519;
    private readonly PublicKey? _key;

    public DiscordSignature(string? publicKeyHex)
    {
        if (!string.IsNullOrEmpty(publicKeyHex)
            && publicKeyHex.Length == 64
            && PublicKey.TryImport(Ed25519, Convert.FromHexString(publicKeyHex), KeyBlobFormat.RawPublicKey, out var key))
        {
            _key = key;
        }
    }

    public bool Verify(string? timestamp, string? signatureHex, ReadOnlySpan<byte> body)
    {
        if (_key is null || string.IsNullOrEmpty(timestamp) || signatureHex is not { Length: 128 })
        {
            return false;
        }

        byte[] signature;
        try
        {
            signature = Convert.FromHexString(signatureHex);
        }
        catch (FormatException)
        {
            return false;
        }

        var prefix = Encoding.UTF8.GetBytes(timestamp);
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return Ed25519.Verify(_key, message, signature);
    }
}
