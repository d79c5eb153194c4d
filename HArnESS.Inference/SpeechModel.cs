using Microsoft.ML.OnnxRuntime;

namespace HArnESS.Inference;

/// <summary>A speech encoder exported by HArnESS.Export, run with ONNX Runtime on the CPU: give it 16 kHz (or the
/// model's rate) samples or WAV files, get hidden states and decoded task outputs (CTC transcripts, class labels with
/// scores, speaker embeddings). Needs no TorchSharp or libtorch. One instance may serve concurrent
/// <see cref="Run(IReadOnlyList{float[]}, CancellationToken)"/> calls (ONNX Runtime sessions are thread-safe).</summary>
public sealed class SpeechModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly SpeechModelOptions _options;
    private readonly string[] _fetch;

    private SpeechModel(string path, SpeechModelInfo info, InferenceSession session, SpeechModelOptions options)
    {
        ModelPath = path;
        Info = info;
        _session = session;
        _options = options;
        var fetch = new List<string> { info.FrameLengthsOutput };
        if (options.ReturnHiddenStates) fetch.AddRange(info.HiddenStates.Select(h => h.Output));
        fetch.AddRange(info.Heads.Select(h => h.Output));
        _fetch = [.. fetch];
    }

    /// <summary>The <c>.onnx</c> file.</summary>
    public string ModelPath { get; }

    /// <summary>What the sidecar says about the model.</summary>
    public SpeechModelInfo Info { get; }

    /// <summary>Loads <paramref name="onnxPath"/> and its sidecar (<c>.json</c> beside it) and checks that the graph has
    /// the inputs and outputs the sidecar names.</summary>
    /// <exception cref="HArnessInferenceFormatException">The sidecar is missing or invalid, or disagrees with the graph.</exception>
    /// <exception cref="HArnessInferenceException">ONNX Runtime cannot load the model.</exception>
    public static SpeechModel Load(string onnxPath, SpeechModelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(onnxPath);
        options ??= new SpeechModelOptions();
        options.Validate();
        if (!File.Exists(onnxPath)) throw new HArnessInferenceException($"Model file '{onnxPath}' does not exist.", onnxPath);
        var sidecarPath = Path.ChangeExtension(onnxPath, ".json");
        var info = SpeechModelInfo.Load(sidecarPath);
        var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (options.IntraOpNumThreads > 0) so.IntraOpNumThreads = options.IntraOpNumThreads;
        InferenceSession session;
        try
        {
            session = new InferenceSession(onnxPath, so);
        }
        catch (OnnxRuntimeException e)
        {
            throw new HArnessInferenceException($"ONNX Runtime cannot load '{onnxPath}': {e.Message}", onnxPath, e);
        }
        finally
        {
            so.Dispose();
        }
        var (signal, lengths) = InputNames(info);
        var missing = new[] { signal, lengths }.Where(n => !session.InputMetadata.ContainsKey(n))
            .Concat(info.HiddenStates.Select(h => h.Output).Concat(info.Heads.Select(h => h.Output)).Append(info.FrameLengthsOutput)
                .Where(n => !session.OutputMetadata.ContainsKey(n)))
            .ToList();
        if (missing.Count > 0)
        {
            session.Dispose();
            throw new HArnessInferenceFormatException(
                $"'{onnxPath}' does not match its sidecar '{sidecarPath}': the graph lacks {string.Join(", ", missing)}.", onnxPath);
        }
        return new SpeechModel(onnxPath, info, session, options);
    }

    /// <summary>Runs one WAV file (channels averaged).</summary>
    /// <exception cref="HArnessSampleRateException">The file is not at the model's rate (no resampling here).</exception>
    /// <exception cref="HArnessInferenceFormatException">The file is not a supported WAV.</exception>
    public SpeechModelOutput RunWav(string wavPath, CancellationToken cancellationToken = default)
    {
        var audio = WavAudio.Read(wavPath);
        if (audio.SampleRate != Info.SampleRate) throw new HArnessSampleRateException(Info.SampleRate, audio.SampleRate, wavPath);
        if (audio.Samples.Length < Info.MinSamples)
            throw new HArnessInferenceException($"'{wavPath}' has {audio.Samples.Length} samples; the model needs at least {Info.MinSamples}.", wavPath);
        return Run([audio.Samples], cancellationToken);
    }

    /// <summary>Runs one utterance of samples at <paramref name="sampleRate"/> Hz.</summary>
    /// <exception cref="HArnessSampleRateException"><paramref name="sampleRate"/> is not the model's rate.</exception>
    public SpeechModelOutput Run(float[] samples, int sampleRate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (sampleRate != Info.SampleRate) throw new HArnessSampleRateException(Info.SampleRate, sampleRate);
        return Run([samples], cancellationToken);
    }

    /// <summary>Runs a batch of utterances at the model's rate (<see cref="SpeechModelInfo.SampleRate"/>); they are
    /// zero-padded to the longest, and the padding is masked in the graph (frames past
    /// <see cref="SpeechModelOutput.FrameLengths"/> are padding). With a layer-norm CNN or fbank front-end each
    /// utterance gets the result it would get alone (up to float rounding); a group-norm CNN (wav2vec2/HuBERT base)
    /// normalises over the padded length, as in PyTorch, so run those one utterance at a time for exact results.</summary>
    /// <exception cref="ArgumentException">The batch is empty or an utterance is shorter than <see cref="SpeechModelInfo.MinSamples"/>.</exception>
    /// <exception cref="HArnessInferenceException">The model takes features, not samples.</exception>
    public SpeechModelOutput Run(IReadOnlyList<float[]> waveforms, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(waveforms);
        if (Info.Input != "waveforms")
            throw new HArnessInferenceException($"'{ModelPath}' was exported without its fbank front-end and takes '{Info.Input}', not samples; re-export with IncludeFbank = true.", ModelPath);
        if (waveforms.Count == 0) throw new ArgumentException("The batch is empty.", nameof(waveforms));
        for (var i = 0; i < waveforms.Count; i++)
        {
            if (waveforms[i] is null) throw new ArgumentNullException(nameof(waveforms), $"Utterance {i} is null.");
            if (waveforms[i].Length < Info.MinSamples)
                throw new ArgumentException($"Utterance {i} has {waveforms[i].Length} samples; the model needs at least {Info.MinSamples} ({1000.0 * Info.MinSamples / Info.SampleRate:0.#} ms).", nameof(waveforms));
        }
        cancellationToken.ThrowIfCancellationRequested();
        var batch = waveforms.Count;
        var time = waveforms.Max(w => w.Length);
        var data = new float[(long)batch * time];
        var lengths = new long[batch];
        for (var b = 0; b < batch; b++)
        {
            waveforms[b].CopyTo(data, (long)b * time);
            lengths[b] = waveforms[b].Length;
        }
        return Execute(data, [batch, time], lengths, cancellationToken);
    }

    private SpeechModelOutput Execute(float[] data, long[] shape, long[] lengths, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var (signal, lengthName) = InputNames(Info);
        using var x = OrtValue.CreateTensorValueFromMemory(data, shape);
        using var l = OrtValue.CreateTensorValueFromMemory(lengths, [shape[0]]);
        using var run = new RunOptions();
        using var results = _session.Run(run, [signal, lengthName], [x, l], _fetch);
        cancellationToken.ThrowIfCancellationRequested();

        var byName = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
        var k = 0;
        foreach (var r in results) byName[_fetch[k++]] = r;
        var frameLengths = byName[Info.FrameLengthsOutput].GetTensorDataAsSpan<long>().ToArray();
        var hidden = new Dictionary<int, FrameTensor>();
        if (_options.ReturnHiddenStates)
            foreach (var h in Info.HiddenStates)
            {
                var (values, dims) = Read(byName[h.Output]);
                hidden[h.Layer] = new FrameTensor(values, dims[0], dims[1], dims[2]);
            }
        var heads = Info.Heads.Select(h => Decode(h, byName[h.Output], frameLengths)).ToList();
        return new SpeechModelOutput(hidden, frameLengths, heads);
    }

    /// <summary>Runs a model exported without its fbank (<see cref="SpeechModelInfo.Input"/> = "features") on raw
    /// fbank features, one <c>[frames, FeatureDim]</c> array per utterance (zero-padded to the longest).</summary>
    /// <exception cref="ArgumentException">The batch is empty or an utterance has the wrong width.</exception>
    /// <exception cref="HArnessInferenceException">The model takes samples, not features.</exception>
    public SpeechModelOutput RunFeatures(IReadOnlyList<float[,]> features, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (Info.Input != "features")
            throw new HArnessInferenceException($"'{ModelPath}' takes '{Info.Input}'; call Run with samples.", ModelPath);
        if (features.Count == 0) throw new ArgumentException("The batch is empty.", nameof(features));
        for (var i = 0; i < features.Count; i++)
            if (features[i] is null || features[i].GetLength(1) != Info.FeatureDim || features[i].GetLength(0) < 1)
                throw new ArgumentException($"Utterance {i} must be [frames >= 1, {Info.FeatureDim}], got [{features[i]?.GetLength(0)}, {features[i]?.GetLength(1)}].", nameof(features));
        var frames = features.Max(f => f.GetLength(0));
        var dim = Info.FeatureDim;
        var data = new float[(long)features.Count * frames * dim];
        for (var b = 0; b < features.Count; b++)
            Buffer.BlockCopy(features[b], 0, data, b * frames * dim * sizeof(float), features[b].Length * sizeof(float));
        return Execute(data, [features.Count, frames, dim], features.Select(f => (long)f.GetLength(0)).ToArray(), cancellationToken);
    }

    /// <summary>Cosine similarity of two embeddings (e.g. <see cref="SpeechModelOutput.Embeddings"/>).</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Embeddings have {a.Length} and {b.Length} values.", nameof(b));
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return dot / Math.Max(Math.Sqrt(na * nb), 1e-30);
    }

    /// <inheritdoc/>
    public void Dispose() => _session.Dispose();

    private static (string Signal, string Lengths) InputNames(SpeechModelInfo info) =>
        info.Input == "waveforms" ? ("waveforms", "lengths") : ("features", "feature_lengths");

    private static (float[] Values, int[] Shape) Read(OrtValue v) =>
        (v.GetTensorDataAsSpan<float>().ToArray(), v.GetTensorTypeAndShape().Shape.Select(d => checked((int)d)).ToArray());

    private static HeadOutput Decode(HeadInfo head, OrtValue value, long[] frameLengths)
    {
        var (raw, shape) = Read(value);
        var batch = shape[0];
        switch (head.Kind)
        {
            case "Ctc":
            {
                int frames = shape[1], vocab = shape[2];
                var texts = new string[batch];
                for (var b = 0; b < batch; b++)
                    texts[b] = CtcGreedyDecoder.Decode(raw.AsSpan(b * frames * vocab), (int)frameLengths[b], vocab, head.Labels, head.BlankIndex ?? 0, head.WordDelimiter);
                return new HeadOutput(head, raw, shape) { Transcripts = texts };
            }
            case "Classification":
            {
                var classes = shape[1];
                var results = new ClassificationResult[batch];
                for (var b = 0; b < batch; b++)
                {
                    var row = raw.AsSpan(b * classes, classes);
                    var max = float.NegativeInfinity;
                    var best = 0;
                    for (var c = 0; c < classes; c++)
                        if (row[c] > max) (max, best) = (row[c], c);
                    var scores = new float[classes];
                    double sum = 0;
                    for (var c = 0; c < classes; c++) sum += scores[c] = MathF.Exp(row[c] - max);
                    for (var c = 0; c < classes; c++) scores[c] = (float)(scores[c] / sum);
                    results[b] = new ClassificationResult(head.Labels?[best] ?? best.ToString(System.Globalization.CultureInfo.InvariantCulture), best, scores);
                }
                return new HeadOutput(head, raw, shape) { Classifications = results };
            }
            default:
            {
                var dim = shape[1];
                var embeddings = Enumerable.Range(0, batch).Select(b => raw.AsSpan(b * dim, dim).ToArray()).ToArray();
                return new HeadOutput(head, raw, shape) { Embeddings = embeddings };
            }
        }
    }
}
