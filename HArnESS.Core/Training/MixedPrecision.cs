using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Training;

/// <summary>
/// The explicit casting mixed precision uses (TorchSharp has no autocast): a module's weights go to the compute
/// dtype, so its matmuls and convolutions run in it, while every norm layer keeps float32 parameters (libtorch's
/// layer and group norm accept a bfloat16/float16 input with float32 parameters and accumulate in float32). Losses
/// are summed in float32 by <see cref="TrainingLoss"/>; the optimiser updates float32 masters and copies them back.
/// </summary>
public static class MixedPrecision
{
    /// <summary>The compute dtype of a precision mode.</summary>
    /// <param name="mode">The mode.</param>
    public static ScalarType ComputeDType(PrecisionMode mode) => mode switch
    {
        PrecisionMode.BFloat16 => ScalarType.BFloat16,
        PrecisionMode.Float16 => ScalarType.Float16,
        _ => ScalarType.Float32,
    };

    /// <summary>True for a normalisation layer (its type name contains "Norm": LayerNorm, GroupNorm, BatchNorm,
    /// <c>ChannelLayerNorm</c>), whose parameters stay float32.</summary>
    /// <param name="module">A module.</param>
    public static bool IsNormModule(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return module.GetType().Name.Contains("Norm", StringComparison.Ordinal);
    }

    /// <summary>Casts a module for compute in <paramref name="dtype"/>: every floating parameter and buffer to it,
    /// then the norm layers back to float32. Float32 leaves the module unchanged.</summary>
    /// <param name="module">The module (changed in place).</param>
    /// <param name="dtype">Float32, BFloat16 or Float16.</param>
    /// <exception cref="ArgumentException">Another dtype.</exception>
    public static void CastForCompute(nn.Module module, ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16))
            throw new ArgumentException($"Expected Float32, BFloat16 or Float16, got {dtype}.", nameof(dtype));
        if (dtype == ScalarType.Float32) return;
        module.to(dtype);
        foreach (var (_, m) in module.named_modules())
            if (IsNormModule(m)) m.to(ScalarType.Float32);
    }

    /// <summary>The parameters of <paramref name="module"/> that <see cref="CastForCompute"/> keeps in float32
    /// (those of its norm layers), by name.</summary>
    /// <param name="module">A module.</param>
    public static IReadOnlySet<string> Float32ParameterNames(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (prefix, m) in module.named_modules())
        {
            if (!IsNormModule(m)) continue;
            foreach (var (n, _) in m.named_parameters())
                names.Add(string.IsNullOrEmpty(prefix) ? n : $"{prefix}.{n}");
        }
        return names;
    }
}
