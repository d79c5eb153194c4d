using HArnESS.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Features;

/// <summary>
/// Global CMVN statistics accumulated in a streaming way (frame count, per-dimension sum and sum of squares, in double
/// precision), merged across workers, saved to and loaded from a small JSON file, and applied to features.
/// Not thread-safe: use one instance per thread and <see cref="Merge"/> them.
/// </summary>
public sealed class CmvnStats
{
    private const string FormatName = "harness-cmvn";
    private const int FormatVersion = 1;
    private readonly double[] _sum;
    private readonly double[] _sumSq;

    /// <summary>Creates empty statistics for <paramref name="dim"/>-dimensional features.</summary>
    /// <exception cref="HArnessConfigException"><paramref name="dim"/> &lt; 1.</exception>
    public CmvnStats(int dim)
    {
        if (dim < 1) throw new HArnessConfigException($"dim must be >= 1, got {dim}.", nameof(dim));
        Dim = dim;
        _sum = new double[dim];
        _sumSq = new double[dim];
    }

    /// <summary>Feature dimension.</summary>
    public int Dim { get; }

    /// <summary>Number of frames accumulated.</summary>
    public long FrameCount { get; private set; }

    /// <summary>Per-dimension sum over all frames.</summary>
    public IReadOnlyList<double> Sum => _sum;

    /// <summary>Per-dimension sum of squares over all frames.</summary>
    public IReadOnlyList<double> SumOfSquares => _sumSq;

    /// <summary>Adds every frame of <c>features [..., frames, dim]</c> (no padding).</summary>
    /// <exception cref="HArnessConfigException">The last axis is not <see cref="Dim"/>.</exception>
    public void Accumulate(Tensor features)
    {
        CheckDim(features);
        using var scope = NewDisposeScope();
        var x = features.to(ScalarType.Float64).reshape(-1, Dim);
        Add(x.shape[0], x.sum(new long[] { 0 }), x.pow(Scalars.Of(2L)).sum(new long[] { 0 }));
    }

    /// <summary>Adds the valid frames of a padded batch <c>features [batch, frames, dim]</c> with <c>lengths [batch]</c> (in frames).</summary>
    /// <exception cref="HArnessConfigException">Shapes or lengths are inconsistent.</exception>
    public void Accumulate(Tensor features, Tensor lengths)
    {
        CheckDim(features);
        if (features.dim() != 3)
            throw new HArnessConfigException($"features must be [batch, frames, dim]; got shape [{string.Join(", ", features.shape)}].", nameof(features));
        var lens = FeatureBatching.ReadLengths(lengths, features.shape[0], features.shape[1], "frames");
        using var scope = NewDisposeScope();
        var valid = FeatureBatching.ValidMask(lens, features.shape[1], features.device).unsqueeze(-1);
        var x = features.to(ScalarType.Float64).masked_fill(valid.logical_not(), Scalars.Of(0.0));
        Add(lens.Sum(), x.sum(new long[] { 0, 1 }), x.pow(Scalars.Of(2L)).sum(new long[] { 0, 1 }));
    }

    /// <summary>Adds another accumulator's statistics (e.g. from another worker or shard).</summary>
    /// <exception cref="HArnessConfigException">The dimensions differ.</exception>
    public void Merge(CmvnStats other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Dim != Dim) throw new HArnessConfigException($"Cannot merge CMVN stats of dim {other.Dim} into dim {Dim}.", nameof(other));
        for (var d = 0; d < Dim; d++)
        {
            _sum[d] += other._sum[d];
            _sumSq[d] += other._sumSq[d];
        }
        FrameCount += other.FrameCount;
    }

    /// <summary>Per-dimension mean.</summary>
    /// <exception cref="HArnessDataException">No frames were accumulated.</exception>
    public double[] Mean()
    {
        RequireFrames();
        return _sum.Select(s => s / FrameCount).ToArray();
    }

    /// <summary>Per-dimension (population) variance, floored at <paramref name="varianceFloor"/>.</summary>
    /// <exception cref="HArnessDataException">No frames were accumulated.</exception>
    public double[] Variance(double varianceFloor = Cmvn.DefaultVarianceFloor)
    {
        var mean = Mean();
        return _sumSq.Select((s, d) => Math.Max(s / FrameCount - mean[d] * mean[d], varianceFloor)).ToArray();
    }

    /// <summary>Normalises <c>features [..., dim]</c>: subtracts the global mean and, when asked, divides by the global standard deviation.</summary>
    /// <exception cref="HArnessConfigException">The last axis is not <see cref="Dim"/>.</exception>
    /// <exception cref="HArnessDataException">No frames were accumulated.</exception>
    public Tensor Apply(Tensor features, bool normalizeVariance = true, double varianceFloor = Cmvn.DefaultVarianceFloor)
    {
        CheckDim(features);
        using var scope = NewDisposeScope();
        var x = FeatureBatching.AsComputeDType(features, nameof(features));
        var y = x - torch.tensor(Mean(), device: x.device).to(x.dtype);
        if (normalizeVariance)
            y = y * torch.tensor(Variance(varianceFloor).Select(v => 1.0 / Math.Sqrt(v)).ToArray(), device: x.device).to(x.dtype);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>As <see cref="Apply(Tensor, bool, double)"/> for a padded batch <c>[batch, frames, dim]</c>; padded frames stay zero.</summary>
    public Tensor Apply(Tensor features, Tensor lengths, bool normalizeVariance = true, double varianceFloor = Cmvn.DefaultVarianceFloor)
    {
        CheckDim(features);
        if (features.dim() != 3)
            throw new HArnessConfigException($"features must be [batch, frames, dim]; got shape [{string.Join(", ", features.shape)}].", nameof(features));
        var lens = FeatureBatching.ReadLengths(lengths, features.shape[0], features.shape[1], "frames");
        using var scope = NewDisposeScope();
        var y = Apply(features, normalizeVariance, varianceFloor);
        var valid = FeatureBatching.ValidMask(lens, features.shape[1], features.device);
        return FeatureBatching.FinishPadded(y, valid, lens, false).MoveToOuterDisposeScope();
    }

    /// <summary>Writes the statistics as JSON (<c>{"format":"harness-cmvn","version":1,"dim","frameCount","sum","sumOfSquares"}</c>).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var dto = new CmvnFile(FormatName, FormatVersion, Dim, FrameCount, _sum, _sumSq);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(dto, JsonOptions));
    }

    /// <summary>Reads statistics written by <see cref="Save"/>.</summary>
    /// <exception cref="HArnessDataException">The file does not exist or cannot be read.</exception>
    /// <exception cref="HArnessFormatException">The file is not valid CMVN JSON (the message says which field is wrong).</exception>
    public static CmvnStats Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new HArnessDataException($"CMVN statistics file not found: '{path}'.", path);
        CmvnFile? dto;
        try
        {
            dto = JsonSerializer.Deserialize<CmvnFile>(File.ReadAllText(path), JsonOptions);
        }
        catch (JsonException e)
        {
            throw new HArnessFormatException($"'{path}' is not valid CMVN statistics JSON: {e.Message}", path, e);
        }
        if (dto is null || dto.Format != FormatName)
            throw new HArnessFormatException($"'{path}' is not a CMVN statistics file: expected \"format\": \"{FormatName}\".", path);
        if (dto.Version != FormatVersion)
            throw new HArnessFormatException($"'{path}' has CMVN format version {dto.Version}; this build reads version {FormatVersion}.", path);
        if (dto.Dim < 1 || dto.Sum is null || dto.SumOfSquares is null || dto.Sum.Length != dto.Dim || dto.SumOfSquares.Length != dto.Dim)
            throw new HArnessFormatException(
                $"'{path}': \"dim\" ({dto.Dim}) must be >= 1 and match the lengths of \"sum\" and \"sumOfSquares\".", path);
        if (dto.FrameCount < 0)
            throw new HArnessFormatException($"'{path}': \"frameCount\" must be >= 0, got {dto.FrameCount}.", path);
        var stats = new CmvnStats(dto.Dim) { FrameCount = dto.FrameCount };
        dto.Sum.CopyTo(stats._sum, 0);
        dto.SumOfSquares.CopyTo(stats._sumSq, 0);
        return stats;
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private sealed record CmvnFile(string Format, int Version, int Dim, long FrameCount, double[] Sum, double[] SumOfSquares);

    private void Add(long frames, Tensor sum, Tensor sumSq)
    {
        using var s = sum.cpu();
        using var q = sumSq.cpu();
        var sv = s.data<double>().ToArray();
        var qv = q.data<double>().ToArray();
        for (var d = 0; d < Dim; d++)
        {
            _sum[d] += sv[d];
            _sumSq[d] += qv[d];
        }
        FrameCount += frames;
    }

    private void CheckDim(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() < 1 || features.shape[^1] != Dim)
            throw new HArnessConfigException(
                $"features must end in dim {Dim}; got shape [{string.Join(", ", features.shape)}].", nameof(features));
    }

    private void RequireFrames()
    {
        if (FrameCount == 0) throw new HArnessDataException("CMVN statistics hold no frames; accumulate features before using them.");
    }
}
