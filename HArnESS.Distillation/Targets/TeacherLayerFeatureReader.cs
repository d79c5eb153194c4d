using System.Globalization;
using HArnESS.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// Hidden states of one teacher layer (HuBERT iteration ≥ 2, fairseq <c>dump_hubert_feature.py</c>): the waveform is
/// cut into chunks of at most <see cref="MaxChunkSamples"/> samples (fairseq <c>max_chunk = 1600000</c>), each chunk
/// runs through the teacher up to the layer, and the chunks' frames are concatenated. Without waveform normalisation
/// the file is read chunk by chunk, so memory is bounded by a chunk.
/// </summary>
public sealed class TeacherLayerFeatureReader : IUtteranceFeatureReader
{
    private readonly SpeechEncoder _teacher;

    /// <summary>Creates the reader.</summary>
    /// <param name="teacher">The teacher (switched to eval mode; not owned).</param>
    /// <param name="layer">Hidden-state index: 0 = input to the first transformer layer, n = output of layer n.</param>
    /// <param name="maxChunkSamples">Samples per forward pass.</param>
    /// <param name="normalizeWaveform">Layer-normalise the whole waveform first (fairseq <c>task.cfg.normalize</c>,
    /// used by large/XLS-R models).</param>
    /// <param name="device">Where the teacher runs; null = the teacher's parameters' device.</param>
    /// <exception cref="HArnessConfigException">The layer or chunk size is out of range.</exception>
    public TeacherLayerFeatureReader(SpeechEncoder teacher, int layer, long maxChunkSamples = 1_600_000, bool normalizeWaveform = false, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        if (layer < 0 || layer > teacher.NumLayers)
            throw new HArnessConfigException($"layer must be in [0, {teacher.NumLayers}] for this teacher, got {layer}.", nameof(layer));
        if (maxChunkSamples < 400)
            throw new HArnessConfigException($"maxChunkSamples must be at least 400 (one CNN receptive field), got {maxChunkSamples}.", nameof(maxChunkSamples));
        _teacher = teacher;
        Layer = layer;
        MaxChunkSamples = maxChunkSamples;
        NormalizeWaveform = normalizeWaveform;
        Device = device ?? teacher.parameters().FirstOrDefault()?.device ?? CPU;
        _teacher.eval();
    }

    /// <summary>The hidden-state index dumped.</summary>
    public int Layer { get; }

    /// <summary>Samples per forward pass.</summary>
    public long MaxChunkSamples { get; }

    /// <summary>Whether the waveform is layer-normalised first.</summary>
    public bool NormalizeWaveform { get; }

    /// <summary>Where the teacher runs.</summary>
    public Device Device { get; }

    /// <inheritdoc/>
    public int Dimension => _teacher.HiddenSize;

    /// <inheritdoc/>
    public string Description => string.Create(CultureInfo.InvariantCulture,
        $"teacher-layer({_teacher.Config.ModelType},{_teacher.HiddenSize}x{_teacher.NumLayers},layer={Layer},chunk={MaxChunkSamples},norm={NormalizeWaveform})");

    /// <inheritdoc/>
    public Tensor Read(string path, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(path)) throw new HArnessDataException($"Audio file not found: '{path}'.", path);
        using var noGrad = torch.no_grad();
        var info = Audio.WavReader.ReadInfo(path);
        Tensor? whole = null;
        if (NormalizeWaveform || info.SampleRate != AudioInput.SampleRate)
        {
            whole = AudioInput.ReadMono(path);
            if (NormalizeWaveform)
            {
                using var w = whole;
                whole = nn.functional.layer_norm(w, [w.shape[0]]);
            }
        }
        var total = whole?.shape[0] ?? info.Frames;
        var parts = new List<Tensor>();
        try
        {
            foreach (var (start, length) in Chunks(total))
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var chunk = whole is not null ? whole.narrow(0, start, length) : AudioInput.ReadRange(path, start, length);
                using var output = _teacher.Forward(chunk.unsqueeze(0).to(Device), stopAtLayer: Layer);
                parts.Add(output.HiddenStates[Layer].squeeze(0).to(ScalarType.Float32, CPU).MoveToOuterDisposeScope());
            }
            if (parts.Count == 0) return empty(0, Dimension, ScalarType.Float32);
            return parts.Count == 1 ? parts[0].contiguous() : torch.cat(parts, 0);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
            whole?.Dispose();
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
