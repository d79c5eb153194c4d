using HArnESS.Data;
using HArnESS.Distillation.Initialization;
using HArnESS.Distillation.Losses;
using HArnESS.Distillation.Students;
using HArnESS.Encoders;
using HArnESS.Tests.Pretraining;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Pipelines;

/// <summary>
/// The honest measurement: the distillation loss at step 0 and after N steps for random, copied and
/// PCA-projected initialisation, at tiny size, on the demo corpus. A 4-layer teacher (width 48) is distilled layer to
/// layer into 2-layer students predicting its hidden states 2 and 4 (DistilXLSR's layer jumping, map [1, 3]): a
/// wide student (48) random or copied from the teacher (front-end and layers 1, 3; projections = identity), and a
/// thin student (32) random or projected on the top 32 principal components of the teacher's activations
/// (<see cref="PcaInitialization"/>; projections = the basis P, so predictions are <c>P h_s ≈ P Pᵀ h_t</c>).
/// Random students keep nn.Linear's default projections. Same batches, seed and optimiser for all four.
/// </summary>
public sealed class InitializationMeasurementTests
{
    private const int Steps = 15;

    private static SpeechEncoderConfig Teacher => MaskedPretrainingTests.Tiny50Hz with { NumLayers = 4, MaskTimeProb = 0 };

    private static DistillationStudentConfig Student(int width) => new()
    {
        Encoder = Teacher with { NumLayers = 2, HiddenSize = width },
        Mode = StudentHeadMode.LayerToLayer, TeacherLayers = [2, 4], StudentLayers = [1, 2], TeacherDim = 48,
    };

    [Test]
    public void CopiedAndPcaProjectedStudentsStartBelowRandomOnes()
    {
        torch.manual_seed(41);
        using var teacher = new DistillationTeacher(new SpeechEncoder(Teacher));
        teacher.Encoder.eval();
        var train = new AudioDataset(Manifest.Load(MaskedPretrainingTests.Demo("train.tsv")));
        var valid = new AudioDataset(Manifest.Load(MaskedPretrainingTests.Demo("valid.tsv")));
        var batches = new AudioLoader(train, new AudioLoaderOptions { BatchSize = 3, MaxSampleSize = 16000, Seed = 5, Prefetch = 0 }).Take(Steps).ToList();
        using var heldOut = new AudioLoader(valid, new AudioLoaderOptions { BatchSize = 8, Shuffle = false, MaxSampleSize = 16000, Crop = CropMode.Start, Prefetch = 0 }).First();
        try
        {
            var teacherState = teacher.Encoder.state_dict();
            using var basis = Basis(teacher, batches.Take(4), 32);

            var random48 = Measure(teacher, Student(48), batches, heldOut, null);
            var copied = Measure(teacher, Student(48), batches, heldOut, s =>
            {
                var state = TeacherInitialization.FromTeacher(teacherState, s.Encoder.state_dict(), [1, 3], FrontEndParts.All);
                Load(s, state.State, state.FromTeacher);
                using var identity = eye(48);
                SetProjections(s, identity);
            });
            var random32 = Measure(teacher, Student(32), batches, heldOut, null);
            var pca = Measure(teacher, Student(32), batches, heldOut, s =>
            {
                var state = PcaInitialization.Project(teacherState, basis, [1, 3]);
                Load(s, state.State, state.State.Keys.ToArray());
                SetProjections(s, basis);
            });

            TestContext.Out.WriteLine($"held-out distillation loss (L1 + −log σ(cos), teacher layers 2 and 4), step 0 → after {Steps} steps (Adam 2e-3, batch 3 × 1 s; held out: 8 × 1 s):");
            foreach (var (name, r) in new[] { ("random, width 48", random48), ("copied, width 48", copied), ("random, width 32", random32), ("PCA-projected, width 32", pca) })
                TestContext.Out.WriteLine($"  {name,-24} {r.Start:F4} → {r.End:F4}");
            Assert.That(copied.Start, Is.LessThan(random48.Start), "copied starts below random");
            Assert.That(pca.Start, Is.LessThan(random32.Start), "PCA-projected starts below random");
            Assert.That(new[] { random48.End, copied.End, random32.End, pca.End }, Has.All.Not.NaN);
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
    }

    /// <summary>The top principal directions of the teacher's hidden states 0..4 over a few batches.</summary>
    private static Tensor Basis(DistillationTeacher teacher, IEnumerable<AudioBatch> batches, int components)
    {
        using var scope = NewDisposeScope();
        var frames = new List<Tensor>();
        foreach (var b in batches)
        {
            using var output = teacher.Forward(b.Waveforms, b.Lengths, [4]);
            var valid = FrameMasks.FromLengths(output.FrameLengths, output.LastHiddenState.shape[1]);
            foreach (var h in output.HiddenStates) frames.Add(h[valid].detach().clone());
        }
        return PcaInitialization.BasisFromActivations(cat(frames, 0), components).MoveToOuterDisposeScope();
    }

    /// <summary>Loads <paramref name="state"/> into the student's encoder; disposes the new tensors (<paramref name="created"/>).</summary>
    private static void Load(DistillationStudent student, Dictionary<string, Tensor> state, IEnumerable<string> created)
    {
        var (missing, unexpected) = student.Encoder.load_state_dict(state, strict: false);
        Assert.That(unexpected, Is.Empty);
        Assert.That(missing, Is.Empty);
        foreach (var key in created.ToArray()) state[key].Dispose();
    }

    /// <summary>Every projection's weight = <paramref name="weight"/> [48, width], bias 0.</summary>
    private static void SetProjections(DistillationStudent student, Tensor weight)
    {
        var heads = (LayerProjections)student.Heads;
        using var _ = no_grad();
        for (var i = 0; i < heads.Count; i++)
        {
            var linear = (TorchSharp.Modules.Linear)heads[i];
            linear.weight!.copy_(weight);
            linear.bias!.zero_();
        }
    }

    private static (double Start, double End) Measure(DistillationTeacher teacher, DistillationStudentConfig config, IReadOnlyList<AudioBatch> batches,
        AudioBatch heldOut, Action<DistillationStudent>? initialize)
    {
        torch.manual_seed(42);
        using var student = new DistillationStudent(config);
        initialize?.Invoke(student);
        var loss = new RegressionLoss(RegressionLossOptions.DistilHubert);
        using var optimizer = optim.Adam(student.parameters(), lr: 2e-3);
        var start = HeldOutLoss(teacher, student, heldOut, loss);
        student.train();
        foreach (var b in batches)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            using var t = teacher.Forward(b.Waveforms, b.Lengths, student.TeacherLayers);
            using var s = student.Forward(b.Waveforms, b.Lengths);
            using var a = s.AlignWithTeacher(t);
            using var l = loss.Compute(a.Predictions, a.Targets, a.ValidFrames, a.TeacherLayers);
            l.Total.backward();
            optimizer.step();
        }
        return (start, HeldOutLoss(teacher, student, heldOut, loss));
    }

    private static double HeldOutLoss(DistillationTeacher teacher, DistillationStudent student, AudioBatch batch, RegressionLoss loss)
    {
        student.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var t = teacher.Forward(batch.Waveforms, batch.Lengths, student.TeacherLayers);
        using var s = student.Forward(batch.Waveforms, batch.Lengths);
        using var a = s.AlignWithTeacher(t);
        using var l = loss.Compute(a.Predictions, a.Targets, a.ValidFrames, a.TeacherLayers);
        return l.Total.item<float>();
    }
}
