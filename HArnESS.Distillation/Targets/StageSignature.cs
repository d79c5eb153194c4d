using System.Security.Cryptography;
using System.Text;

namespace HArnESS.Distillation.Targets;

/// <summary>Signatures of reused products: a SHA-256 over the text of everything that changes them.</summary>
internal static class StageSignature
{
    /// <summary>Lower-case hex SHA-256 of the UTF-8 text (the parts joined by newlines).</summary>
    public static string Hash(params string?[] parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", parts.Select(p => p ?? "-")))));
}
