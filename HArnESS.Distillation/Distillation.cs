using HArnESS.Distillation.Pipelines;
using HArnESS.Distillation.Students;

namespace HArnESS.Distillation;

/// <summary>The fluent entry point for distilling a student from a teacher (see <see cref="DistillationBuilder"/>).</summary>
public static class Distillation
{
    /// <summary>Starts a plan with a frozen teacher (not owned; with its codebook when it has a masked-prediction head).</summary>
    /// <param name="teacher">The teacher, e.g. <c>DistillationTeacher.Load(dir)</c> or the HL teacher of
    /// <see cref="SelfDistillationPipeline"/>.</param>
    public static DistillationBuilder From(DistillationTeacher teacher)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        return new DistillationBuilder(teacher, null, null, new DistillationOptions());
    }
}
