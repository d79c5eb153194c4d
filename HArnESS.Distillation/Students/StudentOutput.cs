using HArnESS.Distillation.Losses;
using HArnESS.Encoders;
using static TorchSharp.torch;
using HArnESS.Tensors;
using TorchSharp;

namespace HArnESS.Distillation.Students;

/// <summary>What <see cref="DistillationStudent.Forward"/> returns: one prediction per configured teacher layer with
/// the student's frame lengths, and the encoder output (for the discriminative loss on the last layer or the feature
/// penalty). Disposing it disposes every tensor it holds.</summary>
public sealed class StudentOutput : IDisposable
{
    internal StudentOutput(IReadOnlyList<Tensor> predictions, IReadOnlyList<int> teacherLayers, EncoderOutput encoder, Tensor validFrames)
    {
        Predictions = predictions;
        TeacherLayers = teacherLayers;
        Encoder = encoder;
        ValidFrames = validFrames;
    }

    /// <summary>N predictions <c>[B, T, TargetDim]</c>, in the order of <see cref="TeacherLayers"/>.</summary>
    public IReadOnlyList<Tensor> Predictions { get; }

    /// <summary>The teacher hidden state each prediction is for.</summary>
    public IReadOnlyList<int> TeacherLayers { get; }

    /// <summary>The student encoder's output (hidden states up to the last layer a head reads, padding mask, front-end features).</summary>
    public EncoderOutput Encoder { get; }

    /// <summary>Valid student frames per utterance <c>[B]</c> int64.</summary>
    public Tensor FrameLengths => Encoder.FrameLengths;

    /// <summary><c>[B, T]</c> bool, true = a valid frame (<see cref="FrameMasks.FromLengths"/> of <see cref="FrameLengths"/>).</summary>
    public Tensor ValidFrames { get; }

    /// <summary>Picks the configured layers from the teacher's output and cuts both sides to the same frames (see
    /// <see cref="Align"/>).</summary>
    /// <param name="teacher">The teacher's output on the same audio (its hidden states must reach the last configured layer).</param>
    /// <param name="transform">Optional map of each teacher layer before comparison, e.g. its PCA projection to k
    /// dims for a compacted student: <c>(hidden [B, T, D], teacherLayer) → [B, T, k]</c>.</param>
    /// <param name="maxFrameDifference">Frames the two sides may differ by (edge rounding), default
    /// <see cref="DistillationStudentConfig.FrameTolerance"/>.</param>
    /// <exception cref="ArgumentException">The teacher output lacks a configured layer (named), or see <see cref="Align"/>.</exception>
    public AlignedTargets AlignWithTeacher(EncoderOutput teacher, Func<Tensor, int, Tensor>? transform = null,
        int maxFrameDifference = DistillationStudentConfig.FrameTolerance)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        var targets = new List<Tensor>();
        using var scope = NewDisposeScope();
        foreach (var layer in TeacherLayers)
        {
            if (layer >= teacher.HiddenStates.Count)
                throw new ArgumentException(
                    $"The student predicts teacher layer {layer} but the teacher output holds hidden states 0..{teacher.HiddenStates.Count - 1}.", nameof(teacher));
            var h = teacher.HiddenStates[layer];
            targets.Add(transform is null ? h.alias() : transform(h, layer));
        }
        var aligned = Align(targets, teacher.FrameLengths, maxFrameDifference);
        foreach (var t in aligned.Predictions) t.MoveToOuterDisposeScope();
        foreach (var t in aligned.Targets) t.MoveToOuterDisposeScope();
        aligned.ValidFrames.MoveToOuterDisposeScope();
        return aligned;
    }

    /// <summary>Cuts the predictions and <paramref name="targets"/> to the shorter frame count and marks the frames
    /// valid on both sides.</summary>
    /// <param name="targets">One teacher target <c>[B, T', D]</c> per prediction (the teacher layer or its compacted form).</param>
    /// <param name="targetFrameLengths">The teacher's valid frames <c>[B]</c>, or null when all of <c>T'</c> is valid.</param>
    /// <param name="maxFrameDifference">Frames <c>T</c> and <c>T'</c> may differ by.</param>
    /// <exception cref="ArgumentException">The number of targets is not the number of heads; a target's batch or
    /// width differs from the predictions'; or the frame counts differ by more than
    /// <paramref name="maxFrameDifference"/> (a frame-rate mismatch).</exception>
    public AlignedTargets Align(IReadOnlyList<Tensor> targets, Tensor? targetFrameLengths = null,
        int maxFrameDifference = DistillationStudentConfig.FrameTolerance)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentOutOfRangeException.ThrowIfNegative(maxFrameDifference);
        if (targets.Count != Predictions.Count)
            throw new ArgumentException(
                $"The student has {Predictions.Count} heads (teacher layers {string.Join(", ", TeacherLayers)}) but {targets.Count} targets were given.", nameof(targets));
        long b = Predictions[0].shape[0], t = Predictions[0].shape[1], d = Predictions[0].shape[2];
        long tt = -1;
        for (var i = 0; i < targets.Count; i++)
        {
            var y = targets[i] ?? throw new ArgumentNullException(nameof(targets), $"targets[{i}] is null.");
            if (y.dim() != 3 || y.shape[0] != b || y.shape[2] != d)
                throw new ArgumentException(
                    $"targets[{i}] (teacher layer {TeacherLayers[i]}) must be [{b}, frames, {d}], got [{string.Join(", ", y.shape)}].", nameof(targets));
            if (tt >= 0 && y.shape[1] != tt)
                throw new ArgumentException($"targets[{i}] has {y.shape[1]} frames, targets[0] has {tt}.", nameof(targets));
            tt = y.shape[1];
        }
        if (Math.Abs(t - tt) > maxFrameDifference)
            throw new ArgumentException(
                $"Frame-rate mismatch: the student gives {t} frames, the teacher targets {tt} (at most {maxFrameDifference} apart).", nameof(targets));
        var n = Math.Min(t, tt);
        using var scope = NewDisposeScope();
        var preds = Predictions.Select(p => p.narrow(1, 0, n).MoveToOuterDisposeScope()).ToArray();
        var ys = targets.Select(y => y.detach().narrow(1, 0, n).MoveToOuterDisposeScope()).ToArray();
        var device = Predictions[0].device;
        using var nS = n.ToScalar();
        var lengths = FrameLengths.to(ScalarType.Int64, device).clamp_max(nS);
        if (targetFrameLengths is not null)
        {
            if (targetFrameLengths.dim() != 1 || targetFrameLengths.shape[0] != b)
                throw new ArgumentException($"Expected target frame lengths [{b}], got [{string.Join(", ", targetFrameLengths.shape)}].", nameof(targetFrameLengths));
            lengths = minimum(lengths, targetFrameLengths.to(ScalarType.Int64, device));
        }
        var valid = FrameMasks.FromLengths(lengths, n).MoveToOuterDisposeScope();
        return new AlignedTargets(preds, ys, valid, TeacherLayers);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var p in Predictions) p.Dispose();
        ValidFrames.Dispose();
        Encoder.Dispose();
    }
}
