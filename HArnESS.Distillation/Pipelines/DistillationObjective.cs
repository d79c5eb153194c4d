using HArnESS.Data;
using HArnESS.Distillation.Losses;
using HArnESS.Distillation.Students;
using HArnESS.Distillation.Targets;
using HArnESS.Encoders;
using HArnESS.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Pipelines;

/// <summary>
/// Distillation with the teacher online, as a trainer objective: each batch runs the frozen teacher (eval mode,
/// no gradient, on the batch's device; its training flag is restored) up to the deepest layer needed, takes the
/// predicted teacher layers (projected on their PCA components when the student predicts a compacted width), runs
/// the student, cuts both to the same frames and returns <see cref="RegressionLoss"/> and, when configured,
/// <see cref="DiscriminativeLoss"/> of the student's last layer through its own code projection against the
/// teacher's codebook. Terms: <c>regression</c> (weight 1), <c>kl</c> (the discriminative weight) and the regression
/// parts (<c>rec_l4</c>, <c>sim_l4</c>, …) logged with weight 0. Train <see cref="DistillationStudent"/> as one module.
/// </summary>
public sealed class DistillationObjective : ITrainingObjective<AudioBatch>
{
    private readonly RegressionLoss _regression;
    private readonly DiscriminativeLoss? _discriminative;
    private readonly TeacherCodebook? _codebook;
    private readonly IReadOnlyList<Pca>? _compaction;
    private readonly int[] _teacherLayers;

    /// <summary>Creates the objective; checks the student against the teacher.</summary>
    /// <param name="teacher">The frozen teacher (not owned).</param>
    /// <param name="student">The student (not owned).</param>
    /// <param name="loss">The losses; null = DistilHuBERT's regression alone.</param>
    /// <param name="compaction">One PCA per predicted teacher layer when the student predicts a compacted width
    /// (<see cref="DistillationStudentConfig.CompactDim"/>); null otherwise.</param>
    /// <exception cref="HArnessValidationException">The student does not fit the teacher (a teacher layer it lacks,
    /// a width or frame-rate mismatch), the loss options are invalid, the discriminative loss is asked for without
    /// a teacher codebook or student code projection, or the compaction does not match (every problem named).</exception>
    public DistillationObjective(DistillationTeacher teacher, DistillationStudent student, DistillationLossOptions? loss = null,
        IReadOnlyList<Pca>? compaction = null)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(student);
        Loss = loss ?? new DistillationLossOptions();
        var errors = new ValidationErrors();
        Check(errors, teacher, student.Config, Loss, compaction?.Count, compaction?.Select(p => (p.InputDim, p.ComponentCount)).ToArray());
        errors.ThrowIfAny(nameof(DistillationObjective));
        Teacher = teacher;
        Student = student;
        _regression = new RegressionLoss(Loss.Regression);
        if (Loss.Discriminative is { } d)
        {
            _discriminative = new DiscriminativeLoss(d);
            _codebook = teacher.GetCodebook();
        }
        _compaction = compaction;
        // The teacher runs only as deep as needed: its last layer only for the discriminative loss.
        _teacherLayers = (_discriminative is null ? student.TeacherLayers : student.TeacherLayers.Append(teacher.Encoder.NumLayers)).Distinct().ToArray();
    }

    /// <summary>The teacher.</summary>
    public DistillationTeacher Teacher { get; }

    /// <summary>The student.</summary>
    public DistillationStudent Student { get; }

    /// <summary>The losses.</summary>
    public DistillationLossOptions Loss { get; }

    /// <summary>The one module to train: <c>student</c> (encoder, heads, code projection).</summary>
    public IReadOnlyList<TrainableModule> Modules => [new("student", Student)];

    /// <summary>Every reason this student, teacher and loss cannot train together, into <paramref name="errors"/>
    /// (what <see cref="DistillationBuilder.Validate()"/> and the constructor report).</summary>
    internal static void Check(ValidationErrors errors, DistillationTeacher teacher, DistillationStudentConfig student, DistillationLossOptions loss,
        int? compactionCount, IReadOnlyList<(int In, int Out)>? compaction)
    {
        try { student.ValidateAgainst(teacher.Config); }
        catch (HArnessValidationException ex) { errors.AddRange(ex.Errors, "Student"); }
        if (loss is null) { errors.Add("Loss", "Loss must not be null."); return; }
        loss.Validate(errors);
        if (loss.Discriminative is not null)
        {
            if (!teacher.HasCodebook)
                errors.Add("Loss.Discriminative",
                    $"The discriminative loss needs the teacher's codebook (a masked-prediction head: final_proj and label_embs_concat), but the teacher{(teacher.Source is null ? "" : $" '{teacher.Source}'")} has none. Use a HuBERT checkpoint with its head, or k-means labels with CodebookCrossEntropyLoss.");
            else if (student.CodeDim is not { } cd)
                errors.Add("Student.CodeDim", $"The discriminative loss needs the student's code projection: set CodeDim = {teacher.Head!.FinalDim} (the codebook's width).");
            else if (cd != teacher.Head!.FinalDim)
                errors.Add("Student.CodeDim", $"CodeDim is {cd} but the teacher's codebook is {teacher.Head.FinalDim} wide.");
        }
        if (student.CompactDim is { } k)
        {
            if (compactionCount is null)
                errors.Add("Compaction", $"The student predicts a PCA-compacted width ({k}) but no PCA was given for the teacher layers.");
            else if (compactionCount != student.TargetCount)
                errors.Add("Compaction", $"{compactionCount} PCAs for {student.TargetCount} predicted teacher layers.");
            else if (compaction is not null)
                for (var i = 0; i < compaction.Count; i++)
                    if (compaction[i].In != teacher.Encoder.HiddenSize || compaction[i].Out != k)
                        errors.Add($"Compaction[{i}]", $"PCA {i} maps {compaction[i].In} → {compaction[i].Out}, expected {teacher.Encoder.HiddenSize} → {k}.");
        }
        else if (compactionCount is not null)
            errors.Add("Compaction", "PCAs were given but the student predicts the teacher's full width (CompactDim is null).");
    }

    /// <inheritdoc/>
    public TrainingLoss Compute(AudioBatch batch, TrainingStepContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        var waves = context.CastInput(batch.Waveforms);
        var lengths = batch.Lengths.to(context.Device);
        using var teacherOut = Teacher.Forward(waves, lengths, _teacherLayers);
        using var studentOut = Student.Forward(waves, lengths);
        using var aligned = Align(studentOut, teacherOut);
        using var reg = _regression.Compute(aligned.Predictions.Select(p => p.to_type(ScalarType.Float32)).ToArray(),
            aligned.Targets.Select(t => t.to_type(ScalarType.Float32)).ToArray(), aligned.ValidFrames, Student.TeacherLayers);
        var terms = new List<LossTerm> { new("regression", reg.Total.alias()) };
        if (_discriminative is not null)
        {
            var n = aligned.ValidFrames.shape[1];
            var teacherLast = teacherOut.HiddenStates[Teacher.Encoder.NumLayers].narrow(1, 0, n).to_type(ScalarType.Float32);
            var studentLast = studentOut.Encoder.LastHiddenState.narrow(1, 0, n);
            var projected = Student.CodeProjection!.forward(studentLast).to_type(ScalarType.Float32);
            using var kl = _discriminative.Compute(teacherLast, projected, _codebook!, aligned.ValidFrames);
            terms.Add(new LossTerm("kl", kl.Terms["kl"].alias(), _discriminative.Options.Weight));
        }
        foreach (var name in reg.Names) terms.Add(new LossTerm(name, reg.Terms[name].detach(), 0));
        return new TrainingLoss(terms, batch.Count);
    }

    /// <summary>Mean cosine similarity per predicted teacher layer between the student's predictions and the teacher's
    /// (compacted) layers over the valid frames of <paramref name="batches"/>, in eval mode without gradient (both
    /// models' training flags are restored).</summary>
    /// <param name="batches">Held-out batches.</param>
    /// <param name="device">Device to run on; null = the student's.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <returns>One value per entry of <see cref="DistillationStudent.TeacherLayers"/>.</returns>
    public IReadOnlyList<double> LayerCosine(IEnumerable<AudioBatch> batches, Device? device = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        var dev = device ?? Student.parameters().First().device;
        var sums = new double[Student.TeacherLayers.Count];
        long frames = 0;
        var wasTraining = Student.training;
        Student.eval();
        try
        {
            using var _ = no_grad();
            foreach (var batch in batches)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var b = batch;
                using var scope = NewDisposeScope();
                var waves = b.Waveforms.to(ScalarType.Float32, dev, copy: true);
                var lengths = b.Lengths.to(dev);
                using var teacherOut = Teacher.Forward(waves, lengths, _teacherLayers);
                using var studentOut = Student.Forward(waves, lengths);
                using var aligned = Align(studentOut, teacherOut);
                var valid = aligned.ValidFrames;
                var count = valid.sum().item<long>();
                for (var i = 0; i < sums.Length; i++)
                {
                    var cos = nn.functional.cosine_similarity(aligned.Predictions[i].to_type(ScalarType.Float32), aligned.Targets[i].to_type(ScalarType.Float32), 2, 1e-8);
                    sums[i] += cos.masked_select(valid).sum().item<float>();
                }
                frames += count;
            }
        }
        finally
        {
            if (wasTraining) Student.train();
        }
        return sums.Select(s => frames == 0 ? double.NaN : s / frames).ToArray();
    }

    private AlignedTargets Align(StudentOutput student, EncoderOutput teacher)
    {
        if (_compaction is null) return student.AlignWithTeacher(teacher);
        var index = Student.TeacherLayers.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i);
        return student.AlignWithTeacher(teacher, (h, layer) => _compaction[index[layer]].Transform(h));
    }
}
