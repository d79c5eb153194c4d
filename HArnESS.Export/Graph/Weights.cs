using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Export.Graph;

/// <summary>A module's parameters by <c>state_dict</c> key, copied to float32 host arrays on demand.</summary>
internal sealed class Weights
{
    private readonly Dictionary<string, Tensor> _tensors;

    public Weights(nn.Module module)
    {
        _tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in module.state_dict()) _tensors[name] = tensor;
    }

    public bool Has(string key) => _tensors.ContainsKey(key);

    /// <summary>The tensor under <paramref name="key"/> as float32 values in row-major order, with its shape.</summary>
    /// <exception cref="HArnessCheckpointException">The key is missing or has an unexpected rank.</exception>
    public (float[] Data, long[] Shape) Get(string key, int? rank = null)
    {
        if (!_tensors.TryGetValue(key, out var t))
            throw new HArnessCheckpointException($"The model has no tensor '{key}' (state_dict keys: {string.Join(", ", _tensors.Keys.Take(8))}, …).");
        if (rank is { } r && t.dim() != r)
            throw new HArnessCheckpointException($"Tensor '{key}' has shape [{string.Join(", ", t.shape)}]; expected rank {r}.");
        return (ToArray(t), t.shape);
    }

    public static float[] ToArray(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
    }
}
