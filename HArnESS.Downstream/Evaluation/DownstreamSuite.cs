using HArnESS.Data;
using HArnESS.Downstream.Data;
using HArnESS.Downstream.Heads;
using HArnESS.Downstream.Tasks;
using HArnESS.Downstream.Text;
using HArnESS.Downstream.Upstream;
using HArnESS.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Downstream.Evaluation;

/// <summary>
/// The five downstream tasks for one upstream, end to end: trains a head per task (ASR: CTC over the characters of
/// <c>train.wrd</c>; SER, DID: attentive statistics pooling + MLP over <c>train.emo</c>/<c>train.dia</c>; KWS: the same
/// over <c>kws_train.kws</c>; SV: ECAPA-lite embeddings with AAM-softmax over <c>train.spk</c>) with the upstream frozen
/// or fine-tuned as <see cref="DownstreamSuiteOptions.Upstream"/> says, and evaluates each on the test split
/// (<c>test.tsv</c>, <c>kws_test.tsv</c>, <c>sv_trials.txt</c>). <see cref="RunMultiTask"/> trains KWS and SV jointly
/// on one upstream (alternating batches). The results go into <see cref="EvaluationTable.ToMarkdown"/>.
/// Every run fine-tunes the encoder it is given in place when the options train it: pass a fresh copy per run.
/// </summary>
public static class DownstreamSuite
{
    /// <summary>Trains and evaluates every task of <see cref="DownstreamSuiteOptions.Tasks"/>, one after another,
    /// each with its own head (and, when the upstream trains, on the encoder as the previous task left it: give each
    /// fine-tuned run of one task its own encoder, or run one task per call).</summary>
    /// <param name="model">Model label for the table ("teacher", "HS", …).</param>
    /// <param name="encoder">The upstream encoder (the caller keeps ownership).</param>
    /// <param name="options">Corpus, tasks, training.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <returns>One result per task, in run order (task names asr, ser, did, kws, sv).</returns>
    /// <exception cref="HArnessValidationException">The options are invalid.</exception>
    /// <exception cref="HArnessDataException">A corpus file is missing or a test label is not in the training labels.</exception>
    public static IReadOnlyList<EvaluationResult> Run(string model, SpeechEncoder encoder, DownstreamSuiteOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var results = new List<EvaluationResult>();
        foreach (var name in options.Tasks)
            results.Add(RunOne(model, encoder, name, options, cancellationToken));
        return results;
    }

    /// <summary>Trains one task and evaluates it on the test split.</summary>
    /// <param name="model">Model label.</param>
    /// <param name="encoder">The upstream encoder (the caller keeps ownership).</param>
    /// <param name="task">One of <see cref="DownstreamSuiteOptions.AllTasks"/>.</param>
    /// <param name="options">Corpus and training (its <see cref="DownstreamSuiteOptions.Tasks"/> is not used).</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <exception cref="ArgumentException"><paramref name="task"/> is not a suite task.</exception>
    public static EvaluationResult RunOne(string model, SpeechEncoder encoder, string task, DownstreamSuiteOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(options);
        if (!DownstreamSuiteOptions.AllTasks.Contains(task))
            throw new ArgumentException($"Unknown suite task '{task}'; known: {string.Join(", ", DownstreamSuiteOptions.AllTasks)}.", nameof(task));
        options.Validate();
        var upstream = new UpstreamModel(encoder, options.Upstream);
        torch.manual_seed(options.Seed);
        var corpus = new Corpus(options.CorpusDirectory);
        switch (task)
        {
            case "asr":
            {
                var train = corpus.Load("train", "wrd");
                var vocab = CharacterVocabulary.Build(train.Labels["wrd"], new CharacterVocabularyOptions { MapUnknownCharacters = true });
                using var asr = new AsrTask(vocab, upstream, options.AsrHead);
                Train(upstream, [(asr, 1.0, train)], options.AsrEpochs, options with { HeadLearningRate = options.AsrHeadLearningRate ?? options.HeadLearningRate },
                    cancellationToken);
                return DownstreamEvaluator.Evaluate(model, upstream, asr, corpus.Load("test", "wrd"), batchSize: options.BatchSize, cancellationToken: cancellationToken);
            }
            case "ser" or "did" or "kws":
            {
                var (label, split) = task switch { "ser" => ("emo", ""), "did" => ("dia", ""), _ => ("kws", "kws_") };
                var train = corpus.Load(split + "train", label);
                using var head = Classifier(task, label, train, upstream);
                Train(upstream, [(head, 1.0, train)], options.Epochs, options, cancellationToken);
                return DownstreamEvaluator.Evaluate(model, upstream, head, corpus.Load(split + "test", label), options.BatchSize, cancellationToken);
            }
            default:
            {
                var train = corpus.Load("train", "spk");
                using var sv = Verifier(train, upstream);
                Train(upstream, [(sv, 1.0, train)], options.Epochs, options, cancellationToken);
                return EvaluateSv(model, upstream, sv, corpus, options, cancellationToken);
            }
        }
    }

    /// <summary>Joint multi-task fine-tuning (Kerpicci et al.): one upstream, a KWS head and an SV head trained together
    /// from alternating batches (KWS weight 1, SV <see cref="DownstreamSuiteOptions.MultiTaskSvWeight"/>) for
    /// <see cref="DownstreamSuiteOptions.Epochs"/> passes, then each evaluated as in <see cref="RunOne"/>. Compare with
    /// <see cref="RunOne"/>'s single-task "kws" and "sv" results (fine-tuned and frozen) in one table.</summary>
    /// <param name="model">Model label ("joint").</param>
    /// <param name="encoder">The upstream encoder (the caller keeps ownership).</param>
    /// <param name="options">Corpus and training.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <returns>The "kws" and the "sv" result.</returns>
    public static IReadOnlyList<EvaluationResult> RunMultiTask(string model, SpeechEncoder encoder, DownstreamSuiteOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var upstream = new UpstreamModel(encoder, options.Upstream);
        torch.manual_seed(options.Seed);
        var corpus = new Corpus(options.CorpusDirectory);
        var kwsTrain = corpus.Load("kws_train", "kws");
        var svTrain = corpus.Load("train", "spk");
        using var kws = Classifier("kws", "kws", kwsTrain, upstream);
        using var sv = Verifier(svTrain, upstream);
        Train(upstream, [(kws, 1.0, kwsTrain), (sv, options.MultiTaskSvWeight, svTrain)], options.Epochs, options, cancellationToken);
        return
        [
            DownstreamEvaluator.Evaluate(model, upstream, kws, corpus.Load("kws_test", "kws"), options.BatchSize, cancellationToken),
            EvaluateSv(model, upstream, sv, corpus, options, cancellationToken),
        ];
    }

    /// <summary>The multi-task comparison in one call: KWS and SV on a frozen upstream, each fine-tuned on its own
    /// upstream (<see cref="RunOne"/>), and both fine-tuned jointly on one upstream (<see cref="RunMultiTask"/>).
    /// The fine-tuned runs use <see cref="DownstreamSuiteOptions.Upstream"/> when it trains, else full fine-tuning
    /// (<see cref="UpstreamTraining.Full"/>, the rest of the upstream options kept); every run starts from a fresh
    /// encoder of <paramref name="createEncoder"/>, which this method disposes.</summary>
    /// <param name="model">The upstream's label ("teacher", "HST", …).</param>
    /// <param name="createEncoder">Makes a new, identical copy of the upstream per call (e.g. seed + constructor, or a
    /// load of one checkpoint); called four times.</param>
    /// <param name="options">Corpus and training (its <see cref="DownstreamSuiteOptions.Tasks"/> is not used).</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <exception cref="ArgumentException"><paramref name="createEncoder"/> returned null or the same encoder twice.</exception>
    /// <exception cref="HArnessValidationException">The options are invalid.</exception>
    public static MultiTaskComparison CompareMultiTask(string model, Func<SpeechEncoder> createEncoder, DownstreamSuiteOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(createEncoder);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var frozen = options with { Upstream = options.Upstream with { Training = UpstreamTraining.Frozen } };
        var tuned = options.Upstream.Training == UpstreamTraining.Frozen ? options with { Upstream = options.Upstream with { Training = UpstreamTraining.Full } } : options;
        SpeechEncoder? previous = null;
        SpeechEncoder Fresh()
        {
            var e = createEncoder() ?? throw new ArgumentException("The encoder factory returned null.", nameof(createEncoder));
            if (ReferenceEquals(e, previous))
                throw new ArgumentException("The encoder factory returned the same encoder twice; every run needs a fresh copy.", nameof(createEncoder));
            previous = e;
            return e;
        }
        EvaluationResult[] frozenResults, single;
        IReadOnlyList<EvaluationResult> joint;
        using (var e = Fresh()) frozenResults = [RunOne(model, e, "kws", frozen, cancellationToken), RunOne(model, e, "sv", frozen, cancellationToken)];
        using (var e = Fresh()) single = [RunOne(model, e, "kws", tuned, cancellationToken), default!];
        using (var e = Fresh()) single[1] = RunOne(model, e, "sv", tuned, cancellationToken);
        using (var e = Fresh()) joint = RunMultiTask(model, e, tuned, cancellationToken);
        return new MultiTaskComparison { Model = model, Frozen = frozenResults, SingleTask = single, Joint = joint, SvWeight = options.MultiTaskSvWeight };
    }

    private static ClassificationTask Classifier(string name, string label, AudioDataset train, UpstreamModel upstream) =>
        new(name, label, LabelSet.FromLabelFile(train.Labels[label]), upstream,
            new ClassificationTaskOptions { Pooling = PoolingKind.AttentiveStatistics, AttentionDim = 32, HiddenDims = [64], Dropout = 0.1 });

    private static SpeakerVerificationTask Verifier(AudioDataset train, UpstreamModel upstream) =>
        new(LabelSet.FromLabelFile(train.Labels["spk"]), upstream,
            new SpeakerEmbeddingConfig { Channels = 64, Kernels = [5, 3], Dilations = [1, 2], StatsChannels = 64, AttentionDim = 32, EmbeddingDim = 32 },
            aamMargin: 0.2, aamScale: 30);

    private static EvaluationResult EvaluateSv(string model, UpstreamModel upstream, SpeakerVerificationTask sv, Corpus corpus,
        DownstreamSuiteOptions options, CancellationToken cancellationToken)
    {
        var test = corpus.Load("test");
        return DownstreamEvaluator.Evaluate(model, upstream, sv, test, TrialList.Load(corpus.PathOf("sv_trials.txt"), test.Manifest),
            batchSize: options.BatchSize, cancellationToken: cancellationToken);
    }

    private sealed class Corpus(string directory)
    {
        public string PathOf(string name)
        {
            var path = Path.Combine(directory, name);
            return File.Exists(path) ? path
                : throw new HArnessDataException($"The corpus folder '{Path.GetFullPath(directory)}' has no '{name}' (the demo corpus layout is expected).", path);
        }

        public AudioDataset Load(string split, params string[] labels) => AudioDataset.Load(PathOf(split + ".tsv"), null, labels);
    }

    /// <summary>AdamW over the heads (and the upstream's trainable parameters), alternating one batch per task.</summary>
    private static void Train(UpstreamModel upstream, IReadOnlyList<(IDownstreamTask Task, double Weight, AudioDataset Data)> tasks, int epochs,
        DownstreamSuiteOptions options, CancellationToken cancellationToken)
    {
        var objective = new DownstreamObjective(upstream, tasks.Select(t => (t.Task, t.Weight)).ToArray());
        var upstreamParameters = upstream.TrainableParameters();
        // HArnESS's AdamW (Core's trainer optimiser, PyTorch's update) over the parameters themselves.
        using var optimizer = new HArnESS.Training.AdamW();
        var headGroup = new HArnESS.Training.AdamWGroup("heads", options.HeadLearningRate, 0);
        var upstreamGroup = new HArnESS.Training.AdamWGroup("upstream", options.UpstreamLearningRate, 0);
        var named = objective.HeadParameters().Select((p, i) => ($"head.{i}", p, headGroup))
            .Concat(upstreamParameters.Select((p, i) => ($"upstream.{i}", p, upstreamGroup))).ToArray();
        foreach (var (n, p, g) in named) optimizer.Add(n, p, g);
        var encoder = upstream.Encoder;
        var encoderWasTraining = encoder.training;
        var headsWereTraining = tasks.Select(t => t.Task.Head.training).ToArray();
        var requiredGrad = encoder.parameters().Select(p => p.requires_grad).ToArray();
        var frozen = options.Upstream.Training == UpstreamTraining.Frozen;
        var cache = frozen && options.CacheFrozenFeatures;
        // Prefetch 0: batches are read on this thread, so no other thread allocates (and triggers a GC) while libtorch
        // runs a step; TorchSharp 0.107 frees implicitly converted Scalars in finalizers, and a GC in the middle of a
        // native call is what lets that race corrupt a step. The demo-sized reads cost next to nothing.
        var loaders = tasks.Select(t => new AudioLoader(t.Data, new AudioLoaderOptions { BatchSize = options.BatchSize, Seed = options.Seed, Prefetch = 0 })).ToArray();
        // Cached (frozen) batches and their features, per task; they live until the end of training.
        var cached = tasks.Select(_ => new List<(AudioBatch Batch, UpstreamFeatures Features)>()).ToArray();
        var random = new Random(options.Seed);
        try
        {
            foreach (var t in tasks) t.Task.Head.train();
            if (!frozen) encoder.train();
            long update = 0;
            for (var epoch = 0; epoch < epochs; epoch++)
            {
                IEnumerator<(AudioBatch Batch, UpstreamFeatures? Features)>[] streams;
                if (cache && epoch > 0)
                    streams = cached.Select(c => c.OrderBy(_ => random.Next()).Select(p => (p.Batch, (UpstreamFeatures?)p.Features)).GetEnumerator()).ToArray();
                else
                    streams = loaders.Select(l => { l.SetEpoch(epoch); return l.Select(b => (b, (UpstreamFeatures?)null)).GetEnumerator(); }).ToArray();
                try
                {
                    for (var alive = true; alive;)
                    {
                        alive = false;
                        for (var k = 0; k < streams.Length; k++)
                        {
                            if (!streams[k].MoveNext()) continue;
                            alive = true;
                            cancellationToken.ThrowIfCancellationRequested();
                            var (batch, features) = streams[k].Current;
                            if (cache && features is null)
                            {
                                // First epoch: the frozen upstream's features outlive the step (created outside its scope).
                                features = upstream.Extract(batch.Waveforms, batch.Lengths);
                                cached[k].Add((batch, features));
                            }
                            Step(objective, batch, features, update++, optimizer, named);
                            if (!cache) batch.Dispose();
                        }
                    }
                }
                finally
                {
                    foreach (var s in streams) s.Dispose();
                }
            }
        }
        finally
        {
            foreach (var c in cached)
                foreach (var (b, f) in c) { f.Dispose(); b.Dispose(); }
            encoder.train(encoderWasTraining);
            for (var i = 0; i < tasks.Count; i++) tasks[i].Task.Head.train(headsWereTraining[i]);
            foreach (var (p, g) in encoder.parameters().Zip(requiredGrad)) p.requires_grad = g;
        }
    }

    private static void Step(DownstreamObjective objective, AudioBatch batch, UpstreamFeatures? features, long update, HArnESS.Training.AdamW optimizer,
        IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter, HArnESS.Training.AdamWGroup Group)> named)
    {
        using var scope = NewDisposeScope();
        foreach (var (_, p, _) in named) p.grad?.zero_();
        IReadOnlyList<TaskLossTerm> terms;
        if (features is null) terms = objective.Compute(batch, update);
        else
        {
            var list = new List<TaskLossTerm>();
            foreach (var (task, weight) in objective.Tasks.Where(t => batch.Labels.ContainsKey(t.Task.LabelName)))
                list.AddRange(task.Losses(features, batch).Select(t => t with { Weight = t.Weight * weight }));
            terms = list;
        }
        if (terms.Count == 0) return;
        var total = DownstreamObjective.Total(terms);
        total.backward();
        var grads = named.Where(n => n.Parameter.grad is not null).ToDictionary(n => n.Name, n => n.Parameter.grad!);
        if (grads.Count == 0) return;
        nn.utils.clip_grad_norm_(named.Where(n => grads.ContainsKey(n.Name)).Select(n => n.Parameter), 5.0);
        optimizer.Step(grads, 1.0);
    }
}
