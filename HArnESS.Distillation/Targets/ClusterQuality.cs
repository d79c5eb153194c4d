using HArnESS.Data;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// Accumulates the joint counts of frame reference labels and units, utterance by utterance, and computes phone
/// purity, cluster purity and PNMI as fairseq's <c>examples/hubert/measure_teacher_quality.py</c> (without its 1e-8
/// smoothing: 0·log 0 = 0).
/// </summary>
public sealed class ClusterQuality
{
    private readonly Dictionary<(int Ref, int Unit), long> _joint = [];
    private readonly Dictionary<string, int> _refIds = new(StringComparer.Ordinal);
    private long _frames;

    /// <summary>Frames whose lengths may differ between reference and units before an utterance is refused (the
    /// shorter length is used, as fairseq's tolerance).</summary>
    public int LengthTolerance { get; init; } = 1;

    /// <summary>Adds one utterance of integer reference ids and unit ids.</summary>
    /// <exception cref="HArnessDataException">The lengths differ by more than <see cref="LengthTolerance"/>.</exception>
    public void Add(ReadOnlySpan<int> references, ReadOnlySpan<int> units, string? utterance = null)
    {
        var n = CheckedLength(references.Length, units.Length, utterance);
        for (var i = 0; i < n; i++)
        {
            var key = (references[i], units[i]);
            _joint[key] = _joint.GetValueOrDefault(key) + 1;
        }
        _frames += n;
    }

    /// <summary>Adds one utterance of string reference labels (e.g. phones) and unit ids.</summary>
    public void Add(IReadOnlyList<string> references, ReadOnlySpan<int> units, string? utterance = null)
    {
        ArgumentNullException.ThrowIfNull(references);
        var ids = new int[references.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            if (!_refIds.TryGetValue(references[i], out var id)) _refIds[references[i]] = id = _refIds.Count;
            ids[i] = id;
        }
        Add(ids, units, utterance);
    }

    /// <summary>Adds every utterance of two aligned label files: frame references (tokens per frame) and units (.km).</summary>
    /// <exception cref="HArnessDataException">The files have different line counts or an utterance's lengths differ.</exception>
    public void Add(LabelFile references, LabelFile units)
    {
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(units);
        if (references.Count != units.Count)
            throw new HArnessDataException($"'{references.Path}' has {references.Count} lines but '{units.Path}' has {units.Count}.", units.Path);
        for (var i = 0; i < units.Count; i++)
            Add(references.Tokens(i), units.Units(i).ToArray(), $"line {i + 1} of '{units.Path}'");
    }

    private int CheckedLength(int refs, int units, string? utterance)
    {
        if (Math.Abs(refs - units) > LengthTolerance)
            throw new HArnessDataException(
                $"{utterance ?? "utterance"}: {refs} reference frames but {units} unit frames (tolerance {LengthTolerance}).");
        return Math.Min(refs, units);
    }

    /// <summary>The measures over everything added so far.</summary>
    /// <exception cref="HArnessDataException">Nothing was added.</exception>
    public ClusterQualityReport Compute()
    {
        if (_frames == 0) throw new HArnessDataException("No frames were added to measure cluster quality.");
        double total = _frames;
        var pY = new Dictionary<int, double>();
        var pZ = new Dictionary<int, double>();
        var maxPerUnit = new Dictionary<int, double>();
        var maxPerRef = new Dictionary<int, double>();
        foreach (var ((y, z), c) in _joint)
        {
            var p = c / total;
            pY[y] = pY.GetValueOrDefault(y) + p;
            pZ[z] = pZ.GetValueOrDefault(z) + p;
            maxPerUnit[z] = Math.Max(maxPerUnit.GetValueOrDefault(z), p);
            maxPerRef[y] = Math.Max(maxPerRef.GetValueOrDefault(y), p);
        }
        double mi = 0;
        foreach (var ((y, z), c) in _joint)
        {
            var p = c / total;
            mi += p * Math.Log(p / (pY[y] * pZ[z]));
        }
        var hY = -pY.Values.Sum(p => p * Math.Log(p));
        return new ClusterQualityReport(
            PhonePurity: maxPerUnit.Values.Sum(),
            ClusterPurity: maxPerRef.Values.Sum(),
            Pnmi: hY > 0 ? mi / hY : 0,
            MutualInformation: mi,
            PhoneEntropy: hY,
            Frames: _frames,
            ReferenceClasses: pY.Count,
            UsedUnits: pZ.Count);
    }
}
