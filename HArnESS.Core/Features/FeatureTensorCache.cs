using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Features;

/// <summary>
/// Constant tensors (windows, mel banks, DCT matrices) built once per setting, dtype and device and kept for the life
/// of the process; they are detached from every dispose scope so callers' scopes never free them.
/// </summary>
internal static class FeatureTensorCache
{
    private static readonly ConcurrentDictionary<string, Tensor> Cache = new();

    /// <summary>The tensor for <paramref name="key"/> on <paramref name="like"/>'s device and dtype, built by <paramref name="makeCpu"/> on first use.</summary>
    public static Tensor Get(string key, Tensor like, Func<Tensor> makeCpu)
    {
        var fullKey = $"{key}@{like.device}/{like.dtype}";
        if (Cache.TryGetValue(fullKey, out var cached)) return cached;
        Tensor made;
        using (NewDisposeScope())
            made = makeCpu().to(like.dtype).to(like.device).DetachFromDisposeScope();
        var winner = Cache.GetOrAdd(fullKey, made);
        if (!ReferenceEquals(winner, made)) made.Dispose();
        return winner;
    }

    /// <summary>A float32 CPU tensor from a 2-D array.</summary>
    public static Tensor FromMatrix(float[,] m)
    {
        int rows = m.GetLength(0), cols = m.GetLength(1);
        var flat = new float[rows * cols];
        Buffer.BlockCopy(m, 0, flat, 0, flat.Length * sizeof(float));
        return torch.tensor(flat, new long[] { rows, cols }, ScalarType.Float32);
    }
}
