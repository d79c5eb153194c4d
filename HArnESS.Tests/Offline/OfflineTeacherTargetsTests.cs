using System.Text.Json.Nodes;
using HArnESS.Data;
using HArnESS.Distillation.Offline;
using HArnESS.Distillation.Pipelines;
using HArnESS.Distillation.Students;
using HArnESS.Distillation.Targets;
using HArnESS.Encoders;
using HArnESS.Tensors;
using HArnESS.Tests.Pretraining;
using HArnESS.Training;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Offline;

public sealed class OfflineTeacherTargetsTests
{
    private static readonly int[] Layers = [2, 4];

    private static DistillationTeacher Teacher(int seed = 11)
    {
        torch.manual_seed(seed);
        var encoder = new SpeechEncoder(MaskedPretrainingTests.Tiny50Hz with { NumLayers = 4 });
        encoder.eval();
        return new DistillationTeacher(encoder);
    }

    private static DistillationStudentConfig StudentConfig => new()
    {
        Encoder = MaskedPretrainingTests.Tiny50Hz with { NumLayers = 2 }, Mode = StudentHeadMode.PredictionHeads, TeacherLayers = Layers, TeacherDim = 48,
    };

    private static AudioLoaderOptions Cropping => new() { BatchSize = 8, MaxSampleSize = 24000, Seed = 4, Prefetch = 0 };

    private static Manifest Train => Manifest.Load(MaskedPretrainingTests.Demo("train.tsv"));

    // The first 48 training utterances (the demo corpus's first five speakers): enough cropped rows, a fast dump.
    private static Manifest Subset => Train.Select(Enumerable.Range(0, 48));

    /// <summary>The teacher on one whole utterance alone: hidden states [frames, D] of <see cref="Layers"/>.</summary>
    private static Tensor[] OnlineFull(DistillationTeacher teacher, AudioDataset set, int index)
    {
        var item = set.Read(index);
        using var wave = torch.tensor(item.Samples, [1, item.Samples.Length]);
        using var output = teacher.Forward(wave, null, Layers);
        return Layers.Select(l => output.HiddenStates[l][0].clone()).ToArray();
    }

    private static double MaxRelativeError(Tensor actual, Tensor expected)
    {
        var scale = expected.abs().max().item<float>();
        return actual.add(expected, Scalars.MinusOne).abs().max().item<float>() / Math.Max(scale, 1e-6);
    }

    [Test]
    public void OfflineTargetsOfCroppedBatchesEqualTheOnlineTeacherToFloat16Precision()
    {
        using var dir = TestPaths.NewTempDirectory();
        using var teacher = Teacher();
        var train = Subset;
        var set = new AudioDataset(train);
        using var targets = OfflineTeacherTargets.Dump(teacher, train, Layers, new OfflineTargetsOptions { Directory = dir.Path, UtterancesPerShard = 20 });
        Assert.That(targets.ShardCount, Is.EqualTo(3));
        Assert.That(targets.Utterances, Is.EqualTo(train.Count));
        Assert.That(targets.SamplesPerFrame, Is.EqualTo(320.0), "HuBERT's CNN: 5·2⁶ samples per frame");
        var loader = new AudioLoader(set, Cropping);
        Assert.That(loader.CroppedCount, Is.GreaterThan(2), "the check covers cropped rows");
        double worst = 0;
        int rows = 0, cropped = 0;
        foreach (var batch in loader)
        {
            using var b = batch;
            using var scope = NewDisposeScope();
            using var offline = targets.Read(b, Layers);
            var frames = offline.FrameLengths.data<long>().ToArray();
            for (var r = 0; r < b.Count; r++)
            {
                var full = OnlineFull(teacher, set, b.Indices[r]);
                var n = teacher.Encoder.OutputFrames(b.LengthsArray[r]);
                var start = Math.Min((long)Math.Round(b.Offsets[r] / 320.0, MidpointRounding.ToEven), full[0].shape[0] - n);
                Assert.That(frames[r], Is.EqualTo(n), "the crop's frame count");
                for (var li = 0; li < Layers.Length; li++)
                {
                    var got = offline.Targets[li][r];
                    worst = Math.Max(worst, MaxRelativeError(got.narrow(0, 0, n), full[li].narrow(0, start, n)));
                    if (got.shape[0] > n) Assert.That(got.narrow(0, n, got.shape[0] - n).abs().max().item<float>(), Is.Zero, "padding frames are zero");
                }
                rows++;
                if (b.Offsets[r] > 0) cropped++;
            }
        }
        TestContext.Out.WriteLine($"{rows} rows ({cropped} cropped at a non-zero offset), worst |offline − online| / max|online| = {worst:E2}");
        Assert.That(cropped, Is.GreaterThan(0));
        Assert.That(worst, Is.LessThan(1e-3), "float16 keeps 11 significant bits (relative step 2⁻¹¹ ≈ 4.9e-4)");
        Assert.That(worst, Is.GreaterThan(0), "the targets went through float16");
    }

    [Test]
    public void CompactedTargetsAreReusedByARerunAndRefusedForAnotherTeacher()
    {
        using var dir = TestPaths.NewTempDirectory();
        using var teacher = Teacher();
        var train = Train.Select(Enumerable.Range(0, 24));
        var set = new AudioDataset(train);
        var frames = Layers.Select(_ => new List<Tensor>()).ToArray();
        for (var i = 0; i < 12; i++)
        {
            var full = OnlineFull(teacher, set, i);
            for (var li = 0; li < Layers.Length; li++) frames[li].Add(full[li]);
        }
        var pcas = frames.Select(list => { using var all = torch.cat(list, 0); return Pca.Fit(all, new PcaOptions { Components = 12 }); }).ToArray();
        try
        {
            var options = new OfflineTargetsOptions { Directory = dir.Path, UtterancesPerShard = 10 };
            using (var targets = OfflineTeacherTargets.Dump(teacher, train, Layers, options, pcas))
            {
                Assert.That(targets.Dimension, Is.EqualTo(12));
                Assert.That(targets.IsCompacted);
                Assert.That(targets.ReusedShards, Is.Zero);
                using var batch = new AudioLoader(set, Cropping).First();
                using var offline = targets.Read(batch, Layers);
                for (var r = 0; r < batch.Count; r++)
                {
                    var full = OnlineFull(teacher, set, batch.Indices[r]);
                    var n = teacher.Encoder.OutputFrames(batch.LengthsArray[r]);
                    var start = Math.Min((long)Math.Round(batch.Offsets[r] / 320.0, MidpointRounding.ToEven), full[0].shape[0] - n);
                    for (var li = 0; li < Layers.Length; li++)
                    {
                        using var expected = pcas[li].Transform(full[li].narrow(0, start, n));
                        Assert.That(MaxRelativeError(offline.Targets[li][r].narrow(0, 0, n), expected), Is.LessThan(1e-3));
                    }
                }
                targets.EnsureMatches(teacher, Layers, pcas);
            }
            var shard = Path.Combine(dir.Path, "shard-00001.safetensors");
            var written = File.GetLastWriteTimeUtc(shard);
            using (var again = OfflineTeacherTargets.Dump(teacher, train, Layers, options, pcas))
                Assert.That(again.ReusedShards, Is.EqualTo(3), "a rerun with the same teacher, layers and PCA reuses every shard");
            Assert.That(File.GetLastWriteTimeUtc(shard), Is.EqualTo(written));

            using var other = Teacher(seed: 99);
            using (var opened = OfflineTeacherTargets.Open(dir.Path))
            {
                var ex = Assert.Throws<HArnessDataException>(() => opened.EnsureMatches(other, Layers, pcas));
                TestContext.Out.WriteLine(ex!.Message);
                Assert.That(ex.Message, Does.Contain("weights differ"));
                Assert.That(ex.FilePath, Does.EndWith(OfflineTeacherTargets.IndexFileName));
                Assert.That(Assert.Throws<HArnessDataException>(() => opened.EnsureMatches(teacher, Layers))!.Message, Does.Contain("no PCA was given"));
                Assert.That(Assert.Throws<HArnessDataException>(() => opened.EnsureMatches(teacher, [3], pcas))!.Message, Does.Contain("layer(s) 3 are not in the dump"));
            }
            using (var redone = OfflineTeacherTargets.Dump(other, train, Layers, options, pcas))
            {
                Assert.That(redone.ReusedShards, Is.Zero, "another teacher's dump is recomputed, never reused");
                Assert.DoesNotThrow(() => redone.EnsureMatches(other, Layers, pcas));
            }
        }
        finally
        {
            foreach (var p in pcas) p.Dispose();
            foreach (var t in frames.SelectMany(f => f)) t.Dispose();
        }
    }

    [Test]
    public void MissingShardUnknownUtteranceAndLengthMismatchAreNamed()
    {
        using var dir = TestPaths.NewTempDirectory();
        using var teacher = Teacher();
        var all = Train;
        var dumped = all.Select(Enumerable.Range(0, 16));
        OfflineTeacherTargets.Dump(teacher, dumped, Layers, new OfflineTargetsOptions { Directory = dir.Path, UtterancesPerShard = 8 }).Dispose();

        using (var targets = OfflineTeacherTargets.Open(dir.Path))
        {
            var unknown = new AudioLoader(new AudioDataset(all), new AudioLoaderOptions { BatchSize = 4, Shuffle = false, Prefetch = 0 }, null, [0, 20]);
            using var batch = unknown.First();
            var ex = Assert.Throws<HArnessDataException>(() => targets.Read(batch, Layers).Dispose());
            Assert.That(ex!.Message, Does.Contain("is not in the offline teacher targets").And.Contain("manifest entry 20"));
            Assert.That(ex.FilePath, Is.EqualTo(all.GetFullPath(20)));

            var bad = Assert.Throws<HArnessValidationException>(() => _ = new OfflineDistillationObjective(new DistillationStudent(StudentConfig with { TeacherLayers = [3, 4] }), targets));
            Assert.That(bad!.Errors.Select(e => e.Option), Does.Contain("Student.TeacherLayers[0]"));
            var wide = Assert.Throws<HArnessValidationException>(() => _ = new OfflineDistillationObjective(new DistillationStudent(StudentConfig with { CompactDim = 12 }), targets));
            Assert.That(wide!.Errors.Select(e => e.Option), Does.Contain("Student.TargetDim"));
        }

        // The audio of entry 0 "changed" since the dump: the index now says it is shorter than the batch's row.
        var indexPath = Path.Combine(dir.Path, OfflineTeacherTargets.IndexFileName);
        var original = File.ReadAllText(indexPath);
        var json = JsonNode.Parse(original)!;
        json["utterances"]![0]!["samples"] = 100;
        File.WriteAllText(indexPath, json.ToJsonString());
        using (var targets = OfflineTeacherTargets.Open(dir.Path))
        {
            using var batch = new AudioLoader(new AudioDataset(dumped), new AudioLoaderOptions { BatchSize = 2, Shuffle = false, Prefetch = 0 }, null, [0, 1]).First();
            var ex = Assert.Throws<HArnessDataException>(() => targets.Read(batch, Layers).Dispose());
            Assert.That(ex!.Message, Does.StartWith("Length mismatch").And.Contain("100 samples"));
        }
        File.WriteAllText(indexPath, original);

        File.Delete(Path.Combine(dir.Path, "shard-00001.safetensors"));
        var missing = Assert.Throws<HArnessDataException>(() => OfflineTeacherTargets.Open(dir.Path).Dispose());
        Assert.That(missing!.Message, Does.StartWith("Missing shard").And.Contain("shard-00001.safetensors"));
        Assert.That(Assert.Throws<HArnessDataException>(() => OfflineTeacherTargets.Open(Path.Combine(dir.Path, "nowhere")).Dispose())!.Message,
            Does.Contain(OfflineTeacherTargets.IndexFileName));
    }

    [Test]
    public void DistillingFromOfflineTargetsGivesLossesCloseToTheOnlineRun()
    {
        using var dir = TestPaths.NewTempDirectory();
        using var teacher = Teacher();
        var train = Subset;
        using var targets = OfflineTeacherTargets.Dump(teacher, train, Layers, new OfflineTargetsOptions { Directory = dir.Path });
        targets.EnsureMatches(teacher, Layers);
        var trainer = new TrainerOptions { MaxSteps = 10, LearningRate = 2e-3, MaxGradientNorm = 5, LogEvery = 1_000 };

        double[] Run(Func<DistillationStudent, ITrainingObjective<AudioBatch>> objective)
        {
            torch.manual_seed(12);
            using var student = new DistillationStudent(StudentConfig);
            var source = new AudioLoaderBatchSource(new AudioLoader(new AudioDataset(train), Cropping));
            using var t = new Trainer<AudioBatch>([new("student", student)], objective(student), source, trainer);
            return t.Run().History.Series("regression").Select(v => v.Value).ToArray();
        }

        var online = Run(s => new DistillationObjective(teacher, s));
        var offline = Run(s => new OfflineDistillationObjective(s, targets));
        var relative = online.Zip(offline, (a, b) => Math.Abs(a - b) / a).ToArray();
        TestContext.Out.WriteLine($"regression online {online[0]:F4} → {online[^3..].Average():F4}, offline {offline[0]:F4} → {offline[^3..].Average():F4}; " +
            $"per-step relative difference: first {relative[0]:P2}, mean {relative.Average():P2}, max {relative.Max():P2}");
        Assert.That(offline, Has.Length.EqualTo(online.Length));
        Assert.That(relative[0], Is.LessThan(0.05), "the same student and batches: the first loss differs only where crops cut the teacher's context");
        Assert.That(relative.Average(), Is.LessThan(0.05));
        Assert.That(offline[^3..].Average(), Is.LessThan(offline[..3].Average()), "the offline run learns");
    }
}
