using System.Globalization;
using HArnESS.Serialization;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// Fitted k-means centres (the codebook) and label assignment: nearest centre by squared Euclidean distance, in
/// chunks on the codebook's device. Saved as safetensors (<c>centers</c> float32 <c>[K, D]</c>).
/// </summary>
public sealed class KMeansCodebook : IDisposable
{
    /// <summary>Rows assigned per matrix product (bounds the <c>[rows, K]</c> distance matrix).</summary>
    public const int AssignChunkRows = 16_384;

    /// <summary>Wraps centres (copied to float32 on <paramref name="device"/>, default: their own device).</summary>
    /// <param name="centers">float <c>[K, D]</c>.</param>
    /// <param name="device">Where assignment runs.</param>
    /// <exception cref="HArnessDataException">Not a matrix or holds NaN/Inf.</exception>
    public KMeansCodebook(Tensor centers, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(centers);
        if (centers.dim() != 2 || centers.shape[0] < 1)
            throw new HArnessDataException($"k-means centres must be [K, D] with K >= 1, got [{string.Join(", ", centers.shape)}].");
        if (FeatureChecks.FirstNonFiniteRow(centers) is var bad and >= 0)
            throw new HArnessDataException($"k-means centre {bad} holds NaN or infinite values.");
        using var scope = NewDisposeScope();
        Centers = centers.detach().to(ScalarType.Float32, device ?? centers.device).contiguous().clone().MoveToOuterDisposeScope();
        CenterNorms = Centers.pow(Scalars.Of(2L)).sum(1).MoveToOuterDisposeScope();
    }

    /// <summary>Centres, float32 <c>[K, D]</c>.</summary>
    public Tensor Centers { get; }

    private Tensor CenterNorms { get; }

    /// <summary>Number of clusters K.</summary>
    public int Clusters => (int)Centers.shape[0];

    /// <summary>Feature dimension D.</summary>
    public int Dimension => (int)Centers.shape[1];

    /// <summary>The device assignment runs on.</summary>
    public Device Device => Centers.device;

    /// <summary>Nearest centre of every frame.</summary>
    /// <param name="features">float <c>[rows, D]</c> on any device.</param>
    /// <returns>int64 <c>[rows]</c> on the codebook's device.</returns>
    public Tensor Predict(Tensor features) => Assign(features, exactInertia: false).Labels;

    /// <summary>Nearest centre of every frame and the summed squared distance (inertia), computed exactly as
    /// <c>||x - c||²</c> in float64.</summary>
    /// <param name="features">float <c>[rows, D]</c>.</param>
    public (Tensor Labels, double Inertia) PredictWithInertia(Tensor features)
    {
        var (labels, inertia) = Assign(features, exactInertia: true);
        return (labels, inertia);
    }

    /// <summary>Inertia (sum of squared distances to the nearest centre) over a whole source, one streamed pass.</summary>
    public double Inertia(IFeatureSource source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        RequireDimension(source.Dimension, "source");
        double total = 0;
        foreach (var chunk in source.ReadChunks(cancellationToken))
        {
            using var owned = chunk;
            using var scope = NewDisposeScope();
            var (labels, inertia) = Assign(chunk, exactInertia: true);
            labels.Dispose();
            total += inertia;
        }
        return total;
    }

    /// <summary>Labels for every frame of a source, chunk by chunk, as int arrays on the CPU.</summary>
    public IEnumerable<int[]> PredictChunks(IFeatureSource source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        RequireDimension(source.Dimension, "source");
        foreach (var chunk in source.ReadChunks(cancellationToken))
        {
            int[] labels;
            using (chunk)
            using (var scope = NewDisposeScope())
            {
                labels = Predict(chunk).to(ScalarType.Int32, torch.CPU).data<int>().ToArray();
            }
            yield return labels;
        }
    }

    internal (Tensor Labels, double Inertia) Assign(Tensor features, bool exactInertia)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() != 2) throw new HArnessDataException($"Expected features [rows, {Dimension}], got [{string.Join(", ", features.shape)}].");
        RequireDimension((int)features.shape[1], "features");
        var rows = features.shape[0];
        var parts = new List<Tensor>();
        double inertia = 0;
        using (var outer = NewDisposeScope())
        {
            for (long start = 0; start < rows; start += AssignChunkRows)
            {
                using var scope = NewDisposeScope();
                var x = features.narrow(0, start, Math.Min(AssignChunkRows, rows - start)).to(ScalarType.Float32, Device);
                var (labels, minDist) = Nearest(x, Centers, CenterNorms);
                if (exactInertia)
                {
                    var diff = x.to(ScalarType.Float64) - Centers.index_select(0, labels).to(ScalarType.Float64);
                    inertia += diff.pow(Scalars.Of(2L)).sum().item<double>();
                }
                else
                {
                    inertia += minDist.sum(ScalarType.Float64).item<double>();
                }
                parts.Add(labels.MoveToOuterDisposeScope());
            }
            var all = parts.Count == 1 ? parts[0] : torch.cat(parts, 0);
            return (all.MoveToOuterDisposeScope(), inertia);
        }
    }

    /// <summary>Nearest rows of <paramref name="centers"/> for every row of <paramref name="x"/> via
    /// <c>||x||² − 2 x·c + ||c||²</c>; distances are clamped at 0.</summary>
    internal static (Tensor Labels, Tensor MinDistance) Nearest(Tensor x, Tensor centers, Tensor centerNorms)
    {
        using var scope = NewDisposeScope();
        var x2 = x.pow(Scalars.Of(2L)).sum(1, keepdim: true);
        var d = torch.addmm(centerNorms.unsqueeze(0), x, centers.t(), beta: 1, alpha: -2).add_(x2, Scalars.One);
        var (min, arg) = d.min(1);
        return (arg.MoveToOuterDisposeScope(), min.clamp_min_(Scalars.Of(0)).MoveToOuterDisposeScope());
    }

    /// <summary>A copy of this codebook on another device.</summary>
    public KMeansCodebook To(Device device) => new(Centers, device);

    /// <summary>Saves the centres as safetensors (<c>centers</c>, with K and D in the metadata).</summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            ["format"] = "harness-kmeans",
            ["clusters"] = Clusters.ToString(CultureInfo.InvariantCulture),
            ["dimension"] = Dimension.ToString(CultureInfo.InvariantCulture),
        };
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["centers"] = Centers }, meta);
    }

    /// <summary>Loads a codebook saved by <see cref="Save"/> onto <paramref name="device"/> (default: CPU).</summary>
    /// <exception cref="HArnessFormatException">The file has no <c>centers</c> tensor.</exception>
    public static KMeansCodebook Load(string path, Device? device = null)
    {
        Runtime.HArnessRuntime.EnsureNative();
        if (!File.Exists(path)) throw new HArnessDataException($"Codebook file not found: '{path}'.", path);
        using var file = SafeTensors.Open(path);
        if (!file.Contains("centers"))
            throw new HArnessFormatException($"'{path}' holds no 'centers' tensor; expected a k-means codebook.", path);
        using var centers = file.Load("centers", dtype: ScalarType.Float32);
        return new KMeansCodebook(centers, device ?? torch.CPU);
    }

    private void RequireDimension(int dim, string what)
    {
        if (dim != Dimension)
            throw new HArnessDataException($"The {what} has dimension {dim} but the codebook expects {Dimension}.");
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Centers.Dispose();
        CenterNorms.Dispose();
    }
}
