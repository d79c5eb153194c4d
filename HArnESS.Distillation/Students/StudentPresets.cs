using HArnESS.Encoders;
using HArnESS.Modules;

namespace HArnESS.Distillation.Students;

/// <summary>
/// Published student shapes and HArnESS's HS/HST builders, as <see cref="DistillationStudentConfig"/>s for a HuBERT-base
/// teacher (768 wide, 12 layers) unless told otherwise. Every preset takes any front-end: the CNN (default), a
/// <see cref="FbankFrontEndConfig"/> or a <see cref="Conv1dSubsamplerConfig"/>. Parameter counts below are without
/// <c>masked_spec_embed</c> (students have none) and are asserted in <c>HArnESS.Tests/Students</c> against counts of
/// PyTorch modules (torchaudio's <c>wav2vec2_model</c> and s3prl's head structure).
/// </summary>
public static class StudentPresets
{
    /// <summary>DistilHuBERT's encoder: HuBERT base's CNN and width, 2 post-LN layers of 768, FFN 3072, 12 heads,
    /// dropouts as s3prl's DistilHuBERT config (0.1 residual, attention and activation; no layer drop), no
    /// <c>masked_spec_embed</c>. 23,492,224 parameters: s3prl's published 23,491,200 (23.49M, heads removed) plus the
    /// 1,024 of the LayerNorm over the 512 CNN channels that HArnESS's (and torchaudio's) feature projection has and
    /// s3prl's distiller lacks.</summary>
    public static SpeechEncoderConfig DistilHubertEncoder { get; } = EncoderPresets.DistilHubert with
    {
        MaskTimeProb = 0, ActivationDropout = 0.1, LayerDrop = 0,
    };

    /// <summary>DistilHuBERT (Chang et al., 2022): <see cref="DistilHubertEncoder"/> with prediction heads for teacher
    /// layers 4, 8, 12 (<c>Linear(768 → 2304) → GELU → split Linear(768 → 768)</c> ×3; 3,543,552 parameters).
    /// 27,035,776 parameters in training with the CNN; 22,917,760 with the fbank front-end (80 Mel × 2 → 512). (The
    /// paper and the released model predict 4/8/12; s3prl's current <c>pretrain/distiller/config_model.yaml</c> ships
    /// <c>pred_layer_id: [4, 12]</c>; pass <c>with { TeacherLayers = [4, 12] }</c> for that. Its
    /// <c>feature_grad_mult: 0.1</c>, the CNN's gradient scale, is a training option, not part of the shape.)</summary>
    /// <param name="frontEnd">Another front-end, or null for the CNN.</param>
    public static DistillationStudentConfig DistilHubert(FrontEndConfig? frontEnd = null) => WithFrontEnd(new DistillationStudentConfig
    {
        Encoder = DistilHubertEncoder,
        Mode = StudentHeadMode.PredictionHeads,
        TeacherLayers = [4, 8, 12],
        TeacherDim = 768,
    }, frontEnd);

    /// <summary>Wang et al.'s shallow &amp; wide student: 2 × 768 (FFN 3072, 12 heads) with three prediction heads for
    /// teacher layers 4/8/12: the DistilHuBERT shape (same parameter count), kept as its own preset so the two
    /// papers' recipes can diverge.</summary>
    /// <param name="frontEnd">Another front-end, or null for the CNN.</param>
    public static DistillationStudentConfig ShallowWide(FrontEndConfig? frontEnd = null) => DistilHubert(frontEnd);

    /// <summary>Wang et al.'s deep &amp; thin student: 12 post-LN layers of 480 (FFN 1920, 12 heads of 40), layer to
    /// layer: student layer i → teacher layer i (1..12), each through its own <c>Linear(480 → 768)</c>. 39,544,960
    /// encoder + 4,432,896 head parameters with the CNN.</summary>
    /// <param name="frontEnd">Another front-end, or null for the CNN.</param>
    /// <param name="projection">Linear (default) or low-rank projections.</param>
    public static DistillationStudentConfig DeepThin(FrontEndConfig? frontEnd = null, LayerProjectionKind projection = LayerProjectionKind.Linear) =>
        WithFrontEnd(new DistillationStudentConfig
        {
            Encoder = DistilHubertEncoder with { HiddenSize = 480, NumLayers = 12, NumHeads = 12, IntermediateSize = 1920 },
            Mode = StudentHeadMode.LayerToLayer,
            TeacherLayers = Enumerable.Range(1, 12).ToArray(),
            StudentLayers = Enumerable.Range(1, 12).ToArray(),
            TeacherDim = 768,
            Projection = projection,
        }, frontEnd);

    /// <summary>
    /// HArnESS's HS ("shallow") student: a few layers at the teacher's width, prediction heads for evenly spaced
    /// teacher layers. The HArnESS paper does not publish its exact sizes; these defaults are HArnESS's choice:
    /// 2 layers × the teacher width, FFN 4 × width, heads = width / 64, predicting teacher layers L/3, 2L/3, L
    /// (4/8/12 for a 12-layer teacher), i.e. the DistilHuBERT shape for a HuBERT-base teacher.
    /// </summary>
    /// <param name="teacherDim">The teacher's width (768).</param>
    /// <param name="teacherLayers">The teacher's layer count (12).</param>
    /// <param name="layers">Student layers (2).</param>
    /// <param name="predictLayers">Teacher layers to predict; null = L/3, 2L/3, L.</param>
    /// <param name="compactDim">Predict a PCA-compacted k instead of the teacher width; null = the full width.</param>
    /// <param name="frontEnd">Another front-end, or null for the CNN.</param>
    public static DistillationStudentConfig Hs(int teacherDim = 768, int teacherLayers = 12, int layers = 2,
        IReadOnlyList<int>? predictLayers = null, int? compactDim = null, FrontEndConfig? frontEnd = null) =>
        Build(teacherDim, teacherLayers, layers, teacherDim, null, null, predictLayers, compactDim, frontEnd);

    /// <summary>
    /// HArnESS's HST ("shallow and thin") student: HS with a reduced width and FFN. The paper's exact sizes are not
    /// public; the defaults are HArnESS's choice: 2 layers × 384, FFN 1536 (4 × width), 6 heads (width / 64),
    /// prediction heads (inner width 384) for teacher layers L/3, 2L/3, L at the teacher's width, or at a
    /// PCA-compacted k with <paramref name="compactDim"/>. 9,128,320 encoder parameters with the CNN.
    /// </summary>
    /// <param name="width">Student width (384); must be divisible by <paramref name="heads"/> and by 16 (the positional conv groups).</param>
    /// <param name="ffn">FFN width; null = 4 × <paramref name="width"/>.</param>
    /// <param name="heads">Attention heads; null = width / 64 (at least 1).</param>
    /// <param name="layers">Student layers (2).</param>
    /// <param name="teacherDim">The teacher's width (768).</param>
    /// <param name="teacherLayers">The teacher's layer count (12).</param>
    /// <param name="predictLayers">Teacher layers to predict; null = L/3, 2L/3, L.</param>
    /// <param name="compactDim">Predict a PCA-compacted k instead of the teacher width; null = the full width.</param>
    /// <param name="frontEnd">Another front-end, or null for the CNN.</param>
    public static DistillationStudentConfig Hst(int width = 384, int? ffn = null, int? heads = null, int layers = 2,
        int teacherDim = 768, int teacherLayers = 12, IReadOnlyList<int>? predictLayers = null, int? compactDim = null,
        FrontEndConfig? frontEnd = null) =>
        Build(teacherDim, teacherLayers, layers, width, ffn, heads, predictLayers, compactDim, frontEnd);

    /// <summary>
    /// Stage 1 of Wang et al.'s front-end distillation for <paramref name="student"/>: the same encoder, one linear
    /// projection from the student's <c>hidden_states[0]</c> (its input to the first transformer layer) to the
    /// teacher's <c>hidden_states[0]</c>. Train it for a number of steps on
    /// <see cref="DistillationStudent.FrontEndParameters"/> only, then build the stage-2 student around the same
    /// encoder (<c>new DistillationStudent(student, stage1.Encoder)</c>) and train everything with the usual losses.
    /// </summary>
    /// <param name="student">The student to be distilled afterwards.</param>
    public static DistillationStudentConfig FrontEndStage(DistillationStudentConfig student)
    {
        ArgumentNullException.ThrowIfNull(student);
        return student with
        {
            Mode = StudentHeadMode.LayerToLayer, TeacherLayers = [0], StudentLayers = [0], CompactDim = null, CodeDim = null,
            HeadInnerDim = null, Projection = LayerProjectionKind.Linear,
        };
    }

    /// <summary>Evenly spaced teacher layers for N heads: <c>round(L·i/N)</c>, i = 1..N (L = 12, N = 3 → 4, 8, 12).</summary>
    /// <param name="teacherLayers">L.</param>
    /// <param name="count">N (at most L).</param>
    /// <exception cref="ArgumentOutOfRangeException">L or N is below 1, or N exceeds L.</exception>
    public static IReadOnlyList<int> EvenlySpaced(int teacherLayers, int count = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(teacherLayers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, teacherLayers);
        return Enumerable.Range(1, count).Select(i => (int)Math.Round((double)teacherLayers * i / count, MidpointRounding.AwayFromZero)).ToArray();
    }

    private static DistillationStudentConfig Build(int teacherDim, int teacherLayers, int layers, int width, int? ffn, int? heads,
        IReadOnlyList<int>? predictLayers, int? compactDim, FrontEndConfig? frontEnd) =>
        WithFrontEnd(new DistillationStudentConfig
        {
            Encoder = DistilHubertEncoder with
            {
                HiddenSize = width, NumLayers = layers, IntermediateSize = ffn ?? 4 * width, NumHeads = heads ?? Math.Max(1, width / 64),
            },
            Mode = StudentHeadMode.PredictionHeads,
            TeacherLayers = predictLayers?.ToArray() ?? EvenlySpaced(teacherLayers, Math.Min(3, teacherLayers)),
            TeacherDim = teacherDim,
            CompactDim = compactDim,
        }, frontEnd);

    private static DistillationStudentConfig WithFrontEnd(DistillationStudentConfig c, FrontEndConfig? frontEnd) =>
        frontEnd is null ? c : c.WithFrontEnd(frontEnd);
}
