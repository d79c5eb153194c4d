using HArnESS.Data;
using HArnESS.Distillation.Losses;
using HArnESS.Distillation.Students;
using HArnESS.Training;
using static TorchSharp.torch;

namespace HArnESS.Distillation.DependencyInjection;

/// <summary>Layer regression of a student onto a frozen teacher: the teacher's hidden states at the student's layers,
/// the student's predictions aligned to them, <see cref="RegressionLoss"/> over the valid frames. The trained term is
/// "loss" (the regression total); each per-layer term is logged with weight 0.</summary>
internal sealed class RegressionDistillationObjective(DistillationTeacher teacher, DistillationStudent student, RegressionLoss loss)
    : ITrainingObjective<AudioBatch>
{
    public TrainingLoss Compute(AudioBatch batch, TrainingStepContext context)
    {
        var waveforms = context.CastInput(batch.Waveforms.to(context.Device));
        var lengths = batch.Lengths.to(context.Device);
        using var target = teacher.Forward(waveforms, lengths, student.TeacherLayers);
        using var output = student.Forward(waveforms, lengths);
        using var aligned = output.AlignWithTeacher(target);
        var predictions = aligned.Predictions.Select(p => p.to_type(ScalarType.Float32)).ToArray();
        var targets = aligned.Targets.Select(t => t.to_type(ScalarType.Float32)).ToArray();
        var features = loss.Options.FeaturePenaltyWeight > 0 ? output.Encoder.FrontEndFeatures.to_type(ScalarType.Float32) : null;
        var terms = loss.Compute(predictions, targets, aligned.ValidFrames, aligned.TeacherLayers, features);
        // The tensors live in the trainer's per-batch dispose scope; LossTerms is only a holder here.
        var list = new List<LossTerm> { new("loss", terms.Total) };
        list.AddRange(terms.Terms.Select(kv => new LossTerm(kv.Key, kv.Value.detach(), 0)));
        return new TrainingLoss(list, batch.Count);
    }
}
