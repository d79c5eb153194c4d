using System.Globalization;
using HArnESS.Data;
using HArnESS.Encoders;
using HArnESS.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// Hidden states of one teacher layer (HuBERT iteration ≥ 2, fairseq <c>dump_hubert_feature.py</c>). Utterances of
/// a batch run through the teacher together, padded, and each row is cut to its <see cref="EncoderOutput.FrameLengths"/>.
/// An utterance longer than <see cref="MaxChunkSamples"/> (fairseq <c>max_chunk = 1600000</c>) runs alone, cut into
/// chunks whose frames are concatenated, as fairseq does.
/// </summary>
/// <remarks>
/// A teacher whose CNN uses <see cref="ConvNormMode.GroupNorm"/> (HuBERT/wav2vec 2.0 base) normalises over time,
/// padding included, so padded rows would get other features than fairseq's one-at-a-time dump: for those teachers
/// every row runs alone (<see cref="Batched"/> is false). The teacher's training flag and the grad mode are restored
/// after every <see cref="Read"/>.
/// </remarks>
public sealed class TeacherLayerFeatureReader : IUtteranceFeatureReader
{
    private readonly SpeechEncoder _teacher;

    /// <summary>Creates the reader (the weights are hashed on first use of <see cref="Description"/>).</summary>
    /// <param name="teacher">The teacher (not owned; its training flag is left as it is).</param>
    /// <param name="layer">Hidden-state index: 0 = input to the first transformer layer, n = output of layer n.</param>
    /// <param name="maxChunkSamples">Samples per forward pass of one long utterance.</param>
    /// <param name="device">Where the teacher runs; null = the teacher's parameters' device.</param>
    /// <exception cref="HArnessConfigException">The layer or chunk size is out of range.</exception>
    public TeacherLayerFeatureReader(SpeechEncoder teacher, int layer, long maxChunkSamples = 1_600_000, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        if (layer < 0 || layer > teacher.NumLayers)
            throw new HArnessConfigException($"layer must be in [0, {teacher.NumLayers}] for this teacher, got {layer}.", nameof(layer));
        if (maxChunkSamples < 400)
            throw new HArnessConfigException($"maxChunkSamples must be at least 400 (one CNN receptive field), got {maxChunkSamples}.", nameof(maxChunkSamples));
        _teacher = teacher;
        Layer = layer;
        MaxChunkSamples = maxChunkSamples;
        Device = device ?? teacher.parameters().FirstOrDefault()?.device ?? CPU;
        Batched = teacher.Config.FrontEnd is not CnnFrontEndConfig { Norm: ConvNormMode.GroupNorm };
        _weightsHash = new Lazy<string>(() => ModuleWeightsHash.Compute(teacher), LazyThreadSafetyMode.None);
    }

    private readonly Lazy<string> _weightsHash;

    /// <summary>The hidden-state index dumped.</summary>
    public int Layer { get; }

    /// <summary>Samples per forward pass of one long utterance.</summary>
    public long MaxChunkSamples { get; }

    /// <summary>Where the teacher runs.</summary>
    public Device Device { get; }

    /// <summary>True when rows of a batch run through the teacher together (padding-safe front-ends); false for a
    /// group-norm CNN, where every row runs alone to give exactly the unpadded features.</summary>
    public bool Batched { get; }

    /// <summary>SHA-256 (hex) of the teacher's state dict (names, dtypes, shapes and bytes), computed on first use
    /// (about a second for HuBERT-base on a CPU): two teachers of the same shape with different weights have
    /// different descriptions, so their dumps are never mixed up.</summary>
    public string WeightsHash => _weightsHash.Value;

    /// <inheritdoc/>
    public int Dimension => _teacher.HiddenSize;

    /// <inheritdoc/>
    public string Description => string.Create(CultureInfo.InvariantCulture,
        $"teacher-layer({_teacher.Config.ModelType},{_teacher.HiddenSize}x{_teacher.NumLayers},layer={Layer},chunk={MaxChunkSamples},norm={_teacher.Config.NormalizeWaveform},rate={_teacher.Config.SampleRate},weights={WeightsHash})");

    /// <inheritdoc/>
    public long FrameCount(long samples) => Chunks(samples).Sum(c => _teacher.OutputFrames(c.Length));

    /// <inheritdoc/>
    public IReadOnlyList<Tensor> Read(AudioBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var result = new Tensor?[batch.Count];
        var wasTraining = _teacher.training;
        _teacher.eval();
        try
        {
            using var noGrad = torch.no_grad();
            var together = new List<int>();
            for (var r = 0; r < batch.Count; r++)
            {
                var n = batch.LengthsArray[r];
                if (FrameCount(n) < 1) result[r] = empty(0, Dimension, ScalarType.Float32);
                else if (Batched && n <= MaxChunkSamples) together.Add(r);
                else result[r] = ReadAlone(batch.Waveforms[r].narrow(0, 0, n), cancellationToken);
            }
            if (together.Count > 0) ReadTogether(batch, together, result, cancellationToken);
            return result!;
        }
        catch
        {
            foreach (var t in result) t?.Dispose();
            throw;
        }
        finally
        {
            if (wasTraining) _teacher.train();
        }
    }

    private void ReadTogether(AudioBatch batch, List<int> rows, Tensor?[] result, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        using var scope = NewDisposeScope();
        var longest = rows.Max(r => batch.LengthsArray[r]);
        var index = tensor(rows.Select(r => (long)r).ToArray());
        var waves = batch.Waveforms.index_select(0, index).narrow(1, 0, longest).to(Device);
        var lengths = tensor(rows.Select(r => batch.LengthsArray[r]).ToArray()).to(Device);
        using var output = _teacher.Forward(waves, lengths, stopAtLayer: Layer);
        var frames = output.FrameLengths.cpu().data<long>().ToArray();
        var states = output.HiddenStates[Layer].to(ScalarType.Float32, CPU);
        for (var k = 0; k < rows.Count; k++)
            result[rows[k]] = states[k].narrow(0, 0, frames[k]).contiguous().MoveToOuterDisposeScope();
    }

    private Tensor ReadAlone(Tensor wave, CancellationToken ct)
    {
        var parts = new List<Tensor>();
        try
        {
            foreach (var (start, length) in Chunks(wave.shape[0]))
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var chunk = wave.narrow(0, start, length).unsqueeze(0).to(Device);
                using var output = _teacher.Forward(chunk, stopAtLayer: Layer);
                parts.Add(output.HiddenStates[Layer].squeeze(0).to(ScalarType.Float32, CPU).contiguous().MoveToOuterDisposeScope());
            }
            return parts.Count == 1 ? parts[0].alias() : torch.cat(parts, 0);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    /// <summary>Chunk boundaries; a tail too short to give a frame is merged into the previous chunk.</summary>
    private IEnumerable<(long Start, long Length)> Chunks(long total)
    {
        if (total <= 0 || _teacher.OutputFrames(total) < 1) yield break;
        for (long start = 0; start < total; start += MaxChunkSamples)
        {
            var length = Math.Min(MaxChunkSamples, total - start);
            var rest = total - start - length;
            if (rest > 0 && _teacher.OutputFrames(rest) < 1) length += rest;
            yield return (start, length);
            if (start + length >= total) yield break;
        }
    }
}
