using System.Globalization;
using HArnESS.Serialization;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// Principal component analysis fitted from streamed chunks: running count, sum and sum of outer products in float64
/// (shifted by the first chunk's mean against cancellation), then the eigendecomposition of the covariance.
/// </summary>
/// <remarks>
/// The eigendecomposition uses <c>torch.linalg.eigh</c> in float64 on the fit device rather than MathNet: the
/// statistics already live there as tensors (no copy to managed arrays), the same code runs on CUDA (cuSOLVER) and
/// CPU (LAPACK), and a symmetric D×D problem (D ≤ a few thousand) is milliseconds either way. Component signs are
/// fixed so the largest-magnitude coordinate of each axis is positive. Explained variances use the unbiased
/// (n − 1) covariance, as sklearn.
/// </remarks>
public sealed class Pca : IDisposable
{
    private Pca(Tensor mean, Tensor components, Tensor explainedVariance, Tensor explainedVarianceRatio, bool whiten, long samples)
    {
        Mean = mean;
        Components = components;
        ExplainedVariance = explainedVariance;
        ExplainedVarianceRatio = explainedVarianceRatio;
        Whiten = whiten;
        Samples = samples;
    }

    /// <summary>Feature mean, float32 <c>[D]</c>.</summary>
    public Tensor Mean { get; }

    /// <summary>Principal axes as rows, float32 <c>[r, D]</c> (sklearn's <c>components_</c>), by decreasing variance.</summary>
    public Tensor Components { get; }

    /// <summary>Variance along each kept axis, float64 <c>[r]</c>.</summary>
    public Tensor ExplainedVariance { get; }

    /// <summary>Fraction of the total variance along each kept axis, float64 <c>[r]</c>.</summary>
    public Tensor ExplainedVarianceRatio { get; }

    /// <summary>Whether <see cref="Transform"/> scales components to unit variance.</summary>
    public bool Whiten { get; }

    /// <summary>Frames the fit saw.</summary>
    public long Samples { get; }

    /// <summary>Input dimension D.</summary>
    public int InputDim => (int)Components.shape[1];

    /// <summary>Kept components r.</summary>
    public int ComponentCount => (int)Components.shape[0];

    /// <summary>Sum of the kept explained-variance ratios.</summary>
    public double RetainedVarianceRatio
    {
        get { using var s = ExplainedVarianceRatio.sum(); return s.item<double>(); }
    }

    /// <summary>Fits an in-memory matrix <c>[rows, D]</c>.</summary>
    public static Pca Fit(Tensor features, PcaOptions? options = null, Device? device = null) =>
        Fit(new TensorFeatureSource(features), options, device);

    /// <summary>Fits a streamed source in one pass (memory: D×D float64, independent of the corpus size).</summary>
    /// <param name="source">Frames.</param>
    /// <param name="options">Components to keep and whitening.</param>
    /// <param name="device">Where the statistics accumulate; null = <see cref="Runtime.HArnessRuntime.Device"/>.</param>
    /// <param name="cancellationToken">Stops between chunks.</param>
    /// <exception cref="HArnessDataException">Fewer than two frames, or a chunk with NaN.</exception>
    /// <exception cref="HArnessConfigException">More components requested than dimensions.</exception>
    public static Pca Fit(IFeatureSource source, PcaOptions? options = null, Device? device = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        options ??= new PcaOptions();
        options.Validate();
        device ??= Runtime.HArnessRuntime.Device;
        var d = source.Dimension;
        var log = options.LoggerFactory.CreateLogger(typeof(Pca).FullName!);
        if (options.Components is { } c && c > d)
        {
            log.LogWarning("PCA refused: {Components} components requested for {Dimension}-dim features", c, d);
            throw new HArnessConfigException($"Components = {c} exceeds the feature dimension {d}.", nameof(PcaOptions.Components));
        }
        log.LogInformation("PCA: fitting {Dimension}-dim features ({Keep}, whiten {Whiten})", d,
            options.Components is { } kc ? $"{kc} components" : options.VarianceThreshold is { } v ? $"variance threshold {v}" : "all components", options.Whiten);

        Tensor? shift = null;
        using var sum = torch.zeros(d, ScalarType.Float64, device);
        using var outer = torch.zeros(d, d, ScalarType.Float64, device);
        long n = 0;
        try
        {
            foreach (var chunk in source.ReadChunks(cancellationToken))
            {
                using var owned = chunk;
                using var scope = NewDisposeScope();
                var x = chunk.to(ScalarType.Float64, device);
                shift ??= x.mean([0L]).MoveToOuterDisposeScope();
                var centred = x - shift;
                sum.add_(centred.sum(0L), Scalars.One);
                outer.add_(centred.t().mm(centred), Scalars.One);
                n += chunk.shape[0];
            }
            if (n < 2)
            {
                log.LogWarning("PCA refused: {Rows} frames, at least 2 are needed", n);
                throw new HArnessDataException($"PCA needs at least 2 frames, got {n}.");
            }

            using var scope2 = NewDisposeScope();
            using var nS = n.ToScalar();
            using var nMinus1 = (n - 1).ToScalar();
            var meanShifted = sum.div(nS);
            var cov = (outer - meanShifted.outer(meanShifted).mul(nS)).div(nMinus1);
            cov = cov.add(cov.t(), Scalars.One).mul(Scalars.Of(0.5));
            var (values, vectors) = torch.linalg.eigh(cov);
            values = values.flip(0).clamp_min(Scalars.Of(0));
            vectors = vectors.flip(1).t(); // rows = axes, decreasing variance
            var total = values.sum().item<double>();
            using var totalS = total.ToScalar();
            var ratio = total > 0 ? values.div(totalS) : torch.zeros_like(values);
            var keep = ChooseComponents(options, ratio, d);
            var axes = vectors.narrow(0, 0, keep);
            // Deterministic signs: the largest-magnitude coordinate of each axis is positive.
            var pivot = axes.abs().argmax(1, keepdim: true);
            var signs = axes.gather(1, pivot).sign();
            signs = torch.where(signs.eq(Scalars.Of(0)), torch.ones_like(signs), signs);
            axes = axes * signs;
            var mean = meanShifted.add(shift!, Scalars.One).to(ScalarType.Float32);
            var pca = new Pca(mean.MoveToOuterDisposeScope(), axes.to(ScalarType.Float32).contiguous().MoveToOuterDisposeScope(),
                values.narrow(0, 0, keep).contiguous().MoveToOuterDisposeScope(), ratio.narrow(0, 0, keep).contiguous().MoveToOuterDisposeScope(),
                options.Whiten, n);
            log.LogInformation("PCA: fitted on {Rows} frames x {Dimension} dims: {Components} components, {Retained:P1} of the variance",
                n, d, keep, pca.RetainedVarianceRatio);
            return pca;
        }
        finally
        {
            shift?.Dispose();
        }
    }

    private static int ChooseComponents(PcaOptions options, Tensor ratio, int d)
    {
        if (options.Components is { } c) return c;
        if (options.VarianceThreshold is not { } threshold) return d;
        // sklearn: searchsorted(cumsum(ratio), threshold, side="right") + 1
        var cum = ratio.cumsum(0L).cpu().data<double>().ToArray();
        var r = 0;
        while (r < cum.Length && cum[r] <= threshold) r++;
        return Math.Min(r + 1, d);
    }

    /// <summary>Projects features onto the kept axes (whitened when <see cref="Whiten"/>).</summary>
    /// <param name="features">float <c>[.., D]</c> on any device.</param>
    /// <returns>float32 <c>[.., r]</c> on the features' device.</returns>
    public Tensor Transform(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        RequireLastDim(features, InputDim, "features");
        using var scope = NewDisposeScope();
        var dev = features.device;
        var z = torch.matmul(features.to(ScalarType.Float32) - Mean.to(dev), Components.to(dev).t());
        if (Whiten) z = z / ExplainedVariance.to(ScalarType.Float32, dev).clamp_min(Scalars.Of(1e-12)).sqrt();
        return z.MoveToOuterDisposeScope();
    }

    /// <summary>Maps projected coordinates back to the feature space (the reconstruction from r components).</summary>
    /// <param name="projected">float <c>[.., r]</c>.</param>
    /// <returns>float32 <c>[.., D]</c>.</returns>
    public Tensor InverseTransform(Tensor projected)
    {
        ArgumentNullException.ThrowIfNull(projected);
        RequireLastDim(projected, ComponentCount, "projected");
        using var scope = NewDisposeScope();
        var dev = projected.device;
        var z = projected.to(ScalarType.Float32);
        if (Whiten) z = z * ExplainedVariance.to(ScalarType.Float32, dev).clamp_min(Scalars.Of(1e-12)).sqrt();
        return torch.matmul(z, Components.to(dev)).add(Mean.to(dev), Scalars.One).MoveToOuterDisposeScope();
    }

    /// <summary>A source that yields <see cref="Transform"/> of every chunk of <paramref name="source"/>.</summary>
    public IFeatureSource TransformSource(IFeatureSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Dimension != InputDim)
            throw new HArnessDataException($"PCA expects dimension {InputDim}, the source has {source.Dimension}.");
        return new EnumerableFeatureSource(() => TransformChunks(source), ComponentCount, source.Rows, "pca-projected features");
    }

    private IEnumerable<Tensor> TransformChunks(IFeatureSource source)
    {
        foreach (var chunk in source.ReadChunks())
            using (chunk) yield return Transform(chunk);
    }

    /// <summary>Saves as safetensors (mean, components, explained variance and ratio; whitening in the metadata).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SafeTensors.Save(path, new Dictionary<string, Tensor>
        {
            ["mean"] = Mean,
            ["components"] = Components,
            ["explained_variance"] = ExplainedVariance,
            ["explained_variance_ratio"] = ExplainedVarianceRatio,
        }, new Dictionary<string, string>
        {
            ["format"] = "harness-pca",
            ["whiten"] = Whiten ? "true" : "false",
            ["samples"] = Samples.ToString(CultureInfo.InvariantCulture),
        });
    }

    /// <summary>Loads a PCA saved by <see cref="Save"/> (CPU tensors).</summary>
    /// <exception cref="HArnessFormatException">A tensor is missing or shapes disagree.</exception>
    public static Pca Load(string path)
    {
        Runtime.HArnessRuntime.EnsureNative();
        if (!File.Exists(path)) throw new HArnessDataException($"PCA file not found: '{path}'.", path);
        using var file = SafeTensors.Open(path);
        foreach (var key in new[] { "mean", "components", "explained_variance", "explained_variance_ratio" })
            if (!file.Contains(key)) throw new HArnessFormatException($"'{path}' has no '{key}' tensor; expected a saved PCA.", path);
        var mean = file.Load("mean", dtype: ScalarType.Float32);
        var comps = file.Load("components", dtype: ScalarType.Float32);
        var ev = file.Load("explained_variance", dtype: ScalarType.Float64);
        var ratio = file.Load("explained_variance_ratio", dtype: ScalarType.Float64);
        if (comps.dim() != 2 || mean.shape[0] != comps.shape[1] || ev.shape[0] != comps.shape[0] || ratio.shape[0] != comps.shape[0])
        {
            mean.Dispose(); comps.Dispose(); ev.Dispose(); ratio.Dispose();
            throw new HArnessFormatException($"'{path}': PCA tensor shapes disagree.", path);
        }
        file.Metadata.TryGetValue("whiten", out var whiten);
        file.Metadata.TryGetValue("samples", out var samples);
        return new Pca(mean, comps, ev, ratio, whiten == "true",
            long.TryParse(samples, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : 0);
    }

    private static void RequireLastDim(Tensor t, int dim, string what)
    {
        if (t.dim() < 1 || t.shape[^1] != dim)
            throw new HArnessDataException($"PCA {what} must end in dimension {dim}, got [{string.Join(", ", t.shape)}].");
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Mean.Dispose();
        Components.Dispose();
        ExplainedVariance.Dispose();
        ExplainedVarianceRatio.Dispose();
    }
}
