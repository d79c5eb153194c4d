using System.Security.Cryptography;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>A content hash of a module's state dict, so products made from a model (feature dumps) are tied to its weights.</summary>
internal static class ModuleWeightsHash
{
    /// <summary>SHA-256 (lower-case hex) over every state-dict entry in order: name, dtype, shape, raw bytes.</summary>
    public static string Compute(nn.Module module)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var noGrad = torch.no_grad();
        foreach (var (name, value) in module.state_dict())
        {
            using var scope = NewDisposeScope();
            hash.AppendData(Encoding.UTF8.GetBytes($"{name}|{value.dtype}|{string.Join(",", value.shape)}\n"));
            var cpu = value.detach().cpu().contiguous();
            hash.AppendData(cpu.bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
