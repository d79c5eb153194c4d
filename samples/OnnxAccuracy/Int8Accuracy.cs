using HArnESS.Data;
using HArnESS.Downstream.Data;
using HArnESS.Downstream.Heads;
using HArnESS.Downstream.Metrics;
using HArnESS.Downstream.Text;
using HArnESS.Encoders;
using HArnESS.Export;
using HArnESS.Inference;
using HArnESS.Tensors;
using HArnESS.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Samples.OnnxAccuracy;

/// <summary>
/// The accuracy cost of int8, measured end to end on a demo-layout corpus:
/// <list type="number">
/// <item>the student's frozen fp32 TorchSharp hidden states of every train and test utterance (batch 1);</item>
/// <item>one head per task on hidden state <see cref="Int8AccuracyOptions.Layer"/>, each a single Linear so that
/// <see cref="OnnxHead"/> exports it exactly: ASR a Downstream <see cref="CtcHead"/> over the characters of
/// <c>train.wrd</c> (CTC loss); SER, DID and KWS a linear <see cref="ClassifierHead"/> on the mean-pooled hidden state
/// (cross-entropy); SV a Linear embedding of the pooled state trained through a speaker <see cref="ClassifierHead"/>
/// (cross-entropy; only the embedding is exported). Inputs are standardised for training and the standardisation is
/// folded into each exported Linear;</item>
/// <item>student + heads exported twice with <see cref="OnnxExporter"/> (fp32 and <see cref="OnnxQuantization.Int8Dynamic"/>);</item>
/// <item>both run with <see cref="SpeechModel"/> (HArnESS.Inference, ONNX Runtime) on every test WAV, one at a time;</item>
/// <item>each task's metric (accuracy on <c>test.emo</c>, <c>test.dia</c>, <c>kws_test.kws</c>; EER on
/// <c>sv_trials.txt</c>; CER on <c>test.wrd</c>) from TorchSharp, ORT fp32 and ORT int8, the share of decisions int8
/// keeps, and the per-frame cosine of every hidden state int8 vs fp32.</item>
/// </list>
/// Tensor work runs on the caller's thread. The encoder is put in eval mode for the run and its mode restored; torch's
/// global generator is seeded with <see cref="Int8AccuracyOptions.Seed"/> before each head is built.
/// </summary>
public static class Int8Accuracy
{
    private static readonly string[] TaskOrder = ["asr", "ser", "did", "kws", "sv"];

    /// <summary>Runs the whole comparison (see the type summary) and writes <c>student-fp32.onnx</c> and
    /// <c>student-int8.onnx</c> (each with its <c>.json</c> sidecar) into <see cref="Int8AccuracyOptions.OutputDirectory"/>.</summary>
    /// <param name="student">A label for the report ("tiny-fbank, random init", a checkpoint folder, …).</param>
    /// <param name="encoder">The student (the caller keeps ownership; its weights are not changed).</param>
    /// <param name="options">Corpus, output folder, head training.</param>
    /// <param name="cancellationToken">Checked between utterances and training steps.</param>
    /// <exception cref="HArnessValidationException">The options are invalid.</exception>
    /// <exception cref="HArnessConfigException">The layer is past the encoder's last layer.</exception>
    /// <exception cref="HArnessDataException">A corpus file is missing, or a test label is not among the training labels.</exception>
    public static Int8AccuracyReport Run(string student, SpeechEncoder encoder, Int8AccuracyOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(student);
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var numLayers = encoder.Config.NumLayers;
        var layer = options.Layer ?? numLayers;
        if (layer > numLayers)
            throw new HArnessConfigException($"Layer is {layer}; the encoder has hidden states 0..{numLayers}.", nameof(Int8AccuracyOptions.Layer));

        var dir = options.CorpusDirectory;
        var train = Load(dir, "train", "wrd", "emo", "dia", "spk");
        var test = Load(dir, "test", "wrd", "emo", "dia", "spk");
        var kwsTrain = Load(dir, "kws_train", "kws");
        var kwsTest = Load(dir, "kws_test", "kws");
        var trialsPath = Path.Combine(dir, "sv_trials.txt");
        if (!File.Exists(trialsPath)) throw new HArnessDataException($"The corpus folder '{Path.GetFullPath(dir)}' has no 'sv_trials.txt'.", trialsPath);
        var trials = TrialList.Load(trialsPath, test.Manifest);
        Directory.CreateDirectory(options.OutputDirectory);

        // 1. Frozen fp32 features: the head layer of every train utterance, every hidden state of every test one.
        var wasTraining = encoder.training;
        Dictionary<string, float[][]> trainFeatures, testFeatures;
        encoder.eval();
        try
        {
            using var noGrad = no_grad();
            trainFeatures = Extract(encoder, [train, kwsTrain], layer, layer, cancellationToken);
            testFeatures = Extract(encoder, [test, kwsTest], 0, numLayers, cancellationToken);
        }
        finally
        {
            encoder.train(wasTraining);
        }
        var hidden = encoder.Config.HiddenSize;
        float[] TrainAt(AudioDataset d, int i) => trainFeatures[d.PathOf(i)][layer];
        float[] TestAt(AudioDataset d, int i) => testFeatures[d.PathOf(i)][layer];

        // 2. Heads (TorchSharp), each folded to one Linear [out, hidden] + bias.
        var vocab = CharacterVocabulary.Build(train.Labels["wrd"], new CharacterVocabularyOptions { MapUnknownCharacters = true });
        var classSets = new Dictionary<string, (AudioDataset Train, AudioDataset Test, string Label)>
        {
            ["ser"] = (train, test, "emo"), ["did"] = (train, test, "dia"), ["kws"] = (kwsTrain, kwsTest, "kws"),
        };
        var linear = new Dictionary<string, (Tensor W, Tensor B)>();
        var labelSets = new Dictionary<string, LabelSet>();
        using var heads = NewDisposeScope();
        using (enable_grad())
        {
            linear["asr"] = TrainCtc(Enumerable.Range(0, train.Count).Select(i => TrainAt(train, i)).ToArray(), hidden,
                CharacterVocabulary.TranscriptsOf(train.Labels["wrd"]).Select((t, i) => vocab.Encode(t, $"{train.Labels["wrd"].Path}:{i + 1}")).ToArray(),
                vocab, options, cancellationToken);
            foreach (var (task, (tr, _, label)) in classSets)
            {
                var set = LabelSet.FromLabelFile(tr.Labels[label]);
                labelSets[task] = set;
                linear[task] = TrainClassifier(Enumerable.Range(0, tr.Count).Select(i => MeanPool(TrainAt(tr, i), hidden)).ToArray(), hidden,
                    set.Map(tr.Labels[label]), set.Count, options, cancellationToken);
            }
            var speakers = LabelSet.FromLabelFile(train.Labels["spk"]);
            linear["sv"] = TrainEmbedding(Enumerable.Range(0, train.Count).Select(i => MeanPool(TrainAt(train, i), hidden)).ToArray(), hidden,
                speakers.Map(train.Labels["spk"]), speakers.Count, options, cancellationToken);
        }

        // 3. Export student + heads, fp32 and int8.
        OnnxHead Head(string task, OnnxHeadKind kind, IReadOnlyList<string>? labels) => new()
        {
            Kind = kind, OutputName = $"{task}_{(kind == OnnxHeadKind.SpeakerEmbedding ? "embedding" : "logits")}",
            Weight = linear[task].W, Bias = linear[task].B, Layer = layer, Labels = labels,
            BlankIndex = kind == OnnxHeadKind.Ctc ? vocab.BlankId : 0, WordDelimiter = CharacterVocabulary.WordBoundary,
        };
        // SER first: SpeechModelOutput.Classifications (what samples/OnnxInference prints) is the emotion label.
        var onnxHeads = new[]
        {
            Head("asr", OnnxHeadKind.Ctc, vocab.Tokens),
            Head("ser", OnnxHeadKind.Classification, labelSets["ser"].Classes),
            Head("did", OnnxHeadKind.Classification, labelSets["did"].Classes),
            Head("kws", OnnxHeadKind.Classification, labelSets["kws"].Classes),
            Head("sv", OnnxHeadKind.SpeakerEmbedding, null),
        };
        var fp32Export = OnnxExporter.Export(encoder, Path.Combine(options.OutputDirectory, "student-fp32.onnx"), new OnnxExportOptions { Heads = onnxHeads });
        var int8Export = OnnxExporter.Export(encoder, Path.Combine(options.OutputDirectory, "student-int8.onnx"),
            new OnnxExportOptions { Heads = onnxHeads, Quantization = OnnxQuantization.Int8Dynamic });

        // 4. ONNX Runtime on every test WAV.
        var modelOptions = new SpeechModelOptions { IntraOpNumThreads = options.IntraOpNumThreads };
        Dictionary<string, SpeechModelOutput> fp32Out, int8Out;
        using (var fp32 = SpeechModel.Load(fp32Export.ModelPath, modelOptions))
            fp32Out = RunAll(fp32, testFeatures.Keys, cancellationToken);
        using (var int8 = SpeechModel.Load(int8Export.ModelPath, modelOptions))
            int8Out = RunAll(int8, testFeatures.Keys, cancellationToken);

        // 5. Metrics.
        var results = new List<Int8TaskResult>();
        foreach (var task in TaskOrder)
        {
            switch (task)
            {
                case "asr":
                {
                    var refs = CharacterVocabulary.TranscriptsOf(test.Labels["wrd"]);
                    var (w, b) = linear["asr"];
                    var torchHyps = Enumerable.Range(0, test.Count).Select(i =>
                    {
                        var logits = Affine(TestAt(test, i), hidden, w, b);
                        return vocab.Decode(HArnESS.Downstream.Decoding.CtcGreedyDecoder.Decode(logits, vocab.Count, vocab.BlankId).Tokens);
                    }).ToArray();
                    string[] Hyps(Dictionary<string, SpeechModelOutput> o) =>
                        Enumerable.Range(0, test.Count).Select(i => HeadOf(o[test.PathOf(i)], "asr_logits").Transcripts![0]).ToArray();
                    var f = Hyps(fp32Out);
                    var q = Hyps(int8Out);
                    var norm = vocab.Options.Normalization;
                    results.Add(new Int8TaskResult("asr", "CER", false, test.Count,
                        ErrorRates.Character(refs, torchHyps, norm).Rate, ErrorRates.Character(refs, f, norm).Rate, ErrorRates.Character(refs, q, norm).Rate,
                        Share(f.Zip(q, (x, y) => x == y))));
                    break;
                }
                case "sv":
                {
                    var (w, b) = linear["sv"];
                    var rel = Enumerable.Range(0, test.Count).ToDictionary(i => test.Manifest.Entries[i].RelativePath, i => test.PathOf(i), StringComparer.Ordinal);
                    var torchEmb = rel.ToDictionary(p => p.Key, p => Affine(MeanPool(testFeatures[p.Value][layer], hidden), hidden, w, b));
                    Dictionary<string, float[]> Emb(Dictionary<string, SpeechModelOutput> o) =>
                        rel.ToDictionary(p => p.Key, p => HeadOf(o[p.Value], "sv_embedding").Embeddings![0]);
                    var fEmb = Emb(fp32Out);
                    var qEmb = Emb(int8Out);
                    var fReport = CosineScorer.Evaluate(fEmb, trials);
                    var fScores = CosineScorer.Score(fEmb, trials);
                    var qScores = CosineScorer.Score(qEmb, trials);
                    results.Add(new Int8TaskResult("sv", "EER", false, trials.Trials.Count,
                        CosineScorer.Evaluate(torchEmb, trials).Eer, fReport.Eer, CosineScorer.Evaluate(qEmb, trials).Eer,
                        Share(fScores.Zip(qScores, (x, y) => x >= fReport.EerThreshold == y >= fReport.EerThreshold))));
                    break;
                }
                default:
                {
                    var (_, ts, label) = classSets[task];
                    var set = labelSets[task];
                    var truth = set.Map(ts.Labels[label]);
                    var (w, b) = linear[task];
                    var torchPred = Enumerable.Range(0, ts.Count).Select(i => ArgMax(Affine(MeanPool(TestAt(ts, i), hidden), hidden, w, b))).ToArray();
                    int[] Pred(Dictionary<string, SpeechModelOutput> o) =>
                        Enumerable.Range(0, ts.Count).Select(i => HeadOf(o[ts.PathOf(i)], $"{task}_logits").Classifications![0].Index).ToArray();
                    var f = Pred(fp32Out);
                    var q = Pred(int8Out);
                    double Acc(int[] p) => ClassificationReport.Compute(set.Classes, truth, p).Accuracy;
                    results.Add(new Int8TaskResult(task, "accuracy", true, ts.Count, Acc(torchPred), Acc(f), Acc(q), Share(f.Zip(q, (x, y) => x == y))));
                    break;
                }
            }
        }

        // Hidden states: per-frame cosine int8 vs fp32, and fp32 vs TorchSharp max abs.
        var layers = new List<Int8LayerCosine>();
        foreach (var h in fp32Out.First().Value.HiddenStates.Keys.Order())
        {
            long frames = 0;
            double sum = 0, min = double.PositiveInfinity, maxAbs = 0;
            foreach (var (path, f) in fp32Out)
            {
                var fh = f.HiddenStates[h];
                var qh = int8Out[path].HiddenStates[h];
                var th = testFeatures[path][h];
                var valid = (int)f.FrameLengths[0];
                for (var t = 0; t < valid; t++)
                {
                    var c = SpeechModel.Cosine(fh.Frame(0, t), qh.Frame(0, t));
                    sum += c;
                    min = Math.Min(min, c);
                    frames++;
                    var row = fh.Frame(0, t);
                    for (var d = 0; d < row.Length; d++) maxAbs = Math.Max(maxAbs, Math.Abs(row[d] - th[t * hidden + d]));
                }
            }
            layers.Add(new Int8LayerCosine(h, frames, sum / Math.Max(frames, 1), min, maxAbs));
        }
        var parameters = encoder.parameters().Sum(p => p.numel());
        return new Int8AccuracyReport(student, parameters, layer, fp32Export.ModelPath, fp32Export.ModelBytes, int8Export.ModelPath,
            int8Export.ModelBytes, int8Export.QuantizedLinears, results, layers);
    }

    private static AudioDataset Load(string dir, string split, params string[] labels)
    {
        var path = Path.Combine(dir, split + ".tsv");
        if (!File.Exists(path))
            throw new HArnessDataException($"The corpus folder '{Path.GetFullPath(dir)}' has no '{split}.tsv' (the demo corpus layout is expected).", path);
        return AudioDataset.Load(path, null, labels);
    }

    /// <summary>Hidden states <paramref name="from"/>..<paramref name="to"/> (flat <c>[frames·hidden]</c>, others null)
    /// of every distinct file of the datasets, by full path, one utterance at a time.</summary>
    private static Dictionary<string, float[][]> Extract(SpeechEncoder encoder, IReadOnlyList<AudioDataset> sets, int from, int to, CancellationToken ct)
    {
        var result = new Dictionary<string, float[][]>(StringComparer.Ordinal);
        foreach (var set in sets)
            for (var i = 0; i < set.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                var path = set.PathOf(i);
                if (result.ContainsKey(path)) continue;
                using var scope = NewDisposeScope();
                var samples = set.Read(i).Samples;
                var x = tensor(samples, [1, samples.Length]);
                using var output = encoder.Forward(x, null, to);
                var states = new float[to + 1][];
                for (var l = from; l <= to; l++) states[l] = output.HiddenStates[l][0].contiguous().data<float>().ToArray();
                result[path] = states;
            }
        return result;
    }

    private static Dictionary<string, SpeechModelOutput> RunAll(SpeechModel model, IEnumerable<string> paths, CancellationToken ct) =>
        paths.ToDictionary(p => p, p => model.RunWav(p, ct), StringComparer.Ordinal);

    private static HeadOutput HeadOf(SpeechModelOutput output, string name) => output.Heads.First(h => h.Info.Output == name);

    private static float[] MeanPool(float[] frames, int dim)
    {
        var n = frames.Length / dim;
        var sum = new double[dim];
        for (var t = 0; t < n; t++)
            for (var d = 0; d < dim; d++) sum[d] += frames[t * dim + d];
        return sum.Select(s => (float)(s / n)).ToArray();
    }

    /// <summary><c>x W^T + b</c> for each row of <paramref name="x"/> (<c>[rows·dim]</c>), in TorchSharp.</summary>
    private static float[] Affine(float[] x, int dim, Tensor w, Tensor b)
    {
        using var scope = NewDisposeScope();
        var t = tensor(x, [x.Length / dim, dim]);
        return t.matmul(w.t()).add(b, Scalars.One).contiguous().data<float>().ToArray();
    }

    private static int ArgMax(float[] v)
    {
        var best = 0;
        for (var i = 1; i < v.Length; i++)
            if (v[i] > v[best]) best = i;
        return best;
    }

    private static double Share(IEnumerable<bool> same)
    {
        var list = same.ToList();
        return list.Count == 0 ? double.NaN : (double)list.Count(s => s) / list.Count;
    }

    /// <summary>Per-column mean and standard deviation (floored at 1e-5) of <paramref name="x"/> <c>[rows, dim]</c>.</summary>
    private static (Tensor Mean, Tensor Std) Moments(Tensor x) =>
        (x.mean([0]), x.std(0, unbiased: false).clamp_min(Scalars.Of(1e-5)));

    /// <summary>Folds the input standardisation into a Linear: <c>W' = W / std</c>, <c>b' = b − W' mean</c>.</summary>
    private static (Tensor W, Tensor B) Fold(Tensor w, Tensor b, Tensor mean, Tensor std)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var wf = w.detach().div(std.unsqueeze(0));
        var bf = b.detach().add(wf.matmul(mean), Scalars.MinusOne);
        return (wf.clone().MoveToOuterDisposeScope(), bf.clone().MoveToOuterDisposeScope());
    }

    private static Tensor Rows(float[][] rows, int dim)
    {
        var flat = new float[rows.Length * dim];
        for (var i = 0; i < rows.Length; i++) rows[i].CopyTo(flat, i * dim);
        return tensor(flat, [rows.Length, dim]);
    }

    /// <summary>Full-batch AdamW (HArnESS's, PyTorch's update) over <paramref name="parameters"/>.</summary>
    private static void Fit(IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter)> parameters, Func<Tensor> loss, int steps,
        Int8AccuracyOptions options, CancellationToken ct)
    {
        using var adam = new AdamW();
        var group = new AdamWGroup("head", options.LearningRate, options.WeightDecay);
        foreach (var (n, p) in parameters) adam.Add(n, p, group);
        for (var s = 0; s < steps; s++)
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            foreach (var (_, p) in parameters) p.grad?.zero_();
            loss().backward();
            adam.Step(parameters.Where(p => p.Parameter.grad is not null).ToDictionary(p => p.Name, p => p.Parameter.grad!), 1.0);
        }
    }

    private static (Tensor W, Tensor B) TrainClassifier(float[][] pooled, int dim, int[] labels, int classes, Int8AccuracyOptions options, CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(options.Seed);
        var x = Rows(pooled, dim);
        var (mean, std) = Moments(x);
        var xs = x.add(mean, Scalars.MinusOne).div(std);
        var y = tensor(labels.Select(l => (long)l).ToArray());
        using var head = new ClassifierHead(dim, classes, [], 0.0);
        var ps = head.named_parameters().ToList();
        Fit(ps, () => nn.functional.cross_entropy(head.forward(xs), y), options.Steps, options, ct);
        var (w, b) = Fold(ps.Single(p => p.name.EndsWith("weight", StringComparison.Ordinal)).parameter,
            ps.Single(p => p.name.EndsWith("bias", StringComparison.Ordinal)).parameter, mean, std);
        return (w.MoveToOuterDisposeScope(), b.MoveToOuterDisposeScope());
    }

    /// <summary>An embedding Linear trained through a speaker classifier (cross-entropy); returns the embedding Linear.</summary>
    private static (Tensor W, Tensor B) TrainEmbedding(float[][] pooled, int dim, int[] speakers, int count, Int8AccuracyOptions options, CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(options.Seed);
        var x = Rows(pooled, dim);
        var (mean, std) = Moments(x);
        var xs = x.add(mean, Scalars.MinusOne).div(std);
        var y = tensor(speakers.Select(l => (long)l).ToArray());
        using var embed = nn.Linear(dim, options.EmbeddingDim);
        using var classifier = new ClassifierHead(options.EmbeddingDim, count, [], 0.0);
        var ps = embed.named_parameters().Select(p => ("embed." + p.name, p.parameter))
            .Concat(classifier.named_parameters().Select(p => ("classifier." + p.name, p.parameter))).ToList();
        Fit(ps, () => nn.functional.cross_entropy(classifier.forward(embed.forward(xs)), y), options.Steps, options, ct);
        var (w, b) = Fold(embed.weight!, embed.bias!, mean, std);
        return (w.MoveToOuterDisposeScope(), b.MoveToOuterDisposeScope());
    }

    private static (Tensor W, Tensor B) TrainCtc(float[][] frames, int dim, int[][] targets, CharacterVocabulary vocab, Int8AccuracyOptions options, CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(options.Seed);
        var n = frames.Length;
        var lengths = frames.Select(f => f.Length / dim).ToArray();
        var maxT = lengths.Max();
        var valid = frames.SelectMany(f => f).ToArray();
        var (mean, std) = Moments(tensor(valid, [valid.Length / dim, dim]));
        var padded = new float[n * maxT * dim];
        for (var i = 0; i < n; i++) frames[i].CopyTo(padded, i * maxT * dim);
        var xs = tensor(padded, [n, maxT, dim]).add(mean, Scalars.MinusOne).div(std);
        var frameLengths = tensor(lengths.Select(l => (long)l).ToArray());
        var maxL = targets.Max(t => t.Length);
        var flatTargets = new long[n * maxL];
        for (var i = 0; i < n; i++)
            for (var k = 0; k < targets[i].Length; k++) flatTargets[i * maxL + k] = targets[i][k];
        var y = tensor(flatTargets, [n, maxL]);
        var targetLengths = tensor(targets.Select(t => (long)t.Length).ToArray());
        using var head = new CtcHead(dim, vocab.Count, 0.0, vocab.BlankId);
        var ps = head.named_parameters().ToList();
        // Summed over utterances (Adam is invariant to the loss scale).
        Fit(ps, () => nn.functional.ctc_loss(head.forward(xs).transpose(0, 1), y, frameLengths, targetLengths,
            blank: vocab.BlankId, reduction: nn.Reduction.Sum, zero_infinity: true), options.AsrSteps, options, ct);
        var (w, b) = Fold(ps.Single(p => p.name.EndsWith("weight", StringComparison.Ordinal)).parameter,
            ps.Single(p => p.name.EndsWith("bias", StringComparison.Ordinal)).parameter, mean, std);
        return (w.MoveToOuterDisposeScope(), b.MoveToOuterDisposeScope());
    }
}
