using HArnESS.Distillation.Initialization;
using HArnESS.Distillation.Pipelines;
using HArnESS.Distillation.Students;
using HArnESS.Encoders;
using HArnESS.Modules;

namespace HArnESS.Samples.Quickstart;

/// <summary>The quickstart's model sizes: a small HuBERT-shaped teacher that pre-trains in minutes on two CPU cores,
/// and the three students sized against it. The shapes are HArnESS's HS/HST builders scaled to the teacher.</summary>
internal static class Recipe
{
    /// <summary>The teacher's CNN: wav2vec 2.0's seven strides (320-sample hop, 20 ms frames) with 64 channels
    /// (32 kept too little of the spectrum for the utterance-level tasks after a few hundred updates).</summary>
    public static CnnFrontEndConfig TeacherCnn { get; } = new() { Layers = ConvStack.Wav2Vec2WithDim(64) };

    /// <summary>The teacher: 4 post-LN layers × 128 (FFN 512, 4 heads), HuBERT's positional conv, a mask embedding.</summary>
    public static SpeechEncoderConfig Teacher { get; } = EncoderPresets.HubertBase with
    {
        FrontEnd = TeacherCnn, HiddenSize = 128, NumLayers = 4, NumHeads = 4, IntermediateSize = 512,
        HiddenDropout = 0, AttentionDropout = 0, ActivationDropout = 0, FeatureProjectionDropout = 0, LayerDrop = 0,
        MaskTimeProb = 0.08,
    };

    /// <summary>Clusters of the two pre-training iterations (MFCC-39 k-means, then the PCA-compacted layer): HuBERT's
    /// 100 for both (its 500 for iteration 2 would leave under ten frames per unit on the demo corpus).</summary>
    public static IReadOnlyList<int> Clusters { get; } = [100, 100];

    /// <summary>Weight of the cross-entropy on unmasked frames beside the masked ones (HuBERT's <c>pred_nomask_weight</c>,
    /// 0 in its base recipe). With a few hundred updates on two minutes of audio it is what makes the CNN learn the
    /// spectrum: the unmasked frames (about seven in ten at mask probability 0.3; 618 of the 892 held-out frames) are
    /// supervised by their own unit too.</summary>
    public const double UnmaskedWeight = 1.0;

    /// <summary>Principal components iteration 2 keeps of the teacher layer before k-means.</summary>
    public const int PcaComponents = 32;

    /// <summary>One student of the comparison.</summary>
    /// <param name="Name">Its name in the table and report.</param>
    /// <param name="Config">Its shape (teacher layers filled in for the given teacher).</param>
    /// <param name="Initialization">What it copies from the teacher before training.</param>
    /// <param name="CompactTargets">Predict the teacher layers' top PCA components instead of their full width.</param>
    public sealed record Student(string Name, DistillationStudentConfig Config, DistillationInitialization Initialization, int? CompactTargets);

    /// <summary>HS (2 layers at the teacher's width, CNN and first layers copied from it), HST (2 × half the width,
    /// the CNN copied, PCA-compacted targets) and an fbank-front-end student (2 layers at the teacher width, its
    /// layers and positional conv copied).</summary>
    public static IReadOnlyList<Student> Students(SpeechEncoderConfig teacher)
    {
        var layers = StudentPresets.EvenlySpaced(teacher.NumLayers, Math.Min(3, teacher.NumLayers));
        var width = teacher.HiddenSize;
        var thin = Math.Max(16, width / 2 / 16 * 16);
        var cnn = teacher.FrontEnd as CnnFrontEndConfig ?? TeacherCnn;
        var sameCnn = teacher.FrontEnd is CnnFrontEndConfig;
        var studentLayers = Math.Min(2, teacher.NumLayers);
        var hs = StudentPresets.Hs(teacherDim: width, teacherLayers: teacher.NumLayers, layers: studentLayers, predictLayers: layers, frontEnd: cnn);
        hs = hs with { Encoder = Matched(hs.Encoder, teacher) };
        var hst = StudentPresets.Hst(width: thin, heads: Math.Max(1, thin / 32), layers: studentLayers, teacherDim: width,
            teacherLayers: teacher.NumLayers, predictLayers: layers, frontEnd: cnn);
        hst = hst with { Encoder = Matched(hst.Encoder, teacher) with { HiddenSize = thin, IntermediateSize = 4 * thin } };
        var fbank = StudentPresets.Hs(teacherDim: width, teacherLayers: teacher.NumLayers, layers: studentLayers, predictLayers: layers,
            frontEnd: new FbankFrontEndConfig { Stack = 2, ProjectionDim = width });
        fbank = fbank with { Encoder = Matched(fbank.Encoder, teacher) };
        var front = sameCnn ? FrontEndParts.All : FrontEndParts.PositionalConv | FrontEndParts.EncoderLayerNorm;
        return
        [
            new("HS", hs, DistillationInitialization.FirstLayers(studentLayers, front), null),
            new("HST", hst, new DistillationInitialization(sameCnn ? FrontEndParts.FeatureExtractor : FrontEndParts.None), Math.Min(64, width / 2)),
            new("fbank", fbank, DistillationInitialization.FirstLayers(studentLayers, FrontEndParts.PositionalConv | FrontEndParts.EncoderLayerNorm), null),
        ];
    }

    /// <summary>The student's transformer with the teacher's positional conv, heads, layout and no dropout (short runs).</summary>
    private static SpeechEncoderConfig Matched(SpeechEncoderConfig student, SpeechEncoderConfig teacher) => student with
    {
        PosConvKernel = teacher.PosConvKernel, PosConvGroups = teacher.PosConvGroups, LayerNormFirst = teacher.LayerNormFirst,
        NumHeads = student.HiddenSize == teacher.HiddenSize ? teacher.NumHeads : student.NumHeads,
        IntermediateSize = student.HiddenSize == teacher.HiddenSize ? teacher.IntermediateSize : student.IntermediateSize,
        HiddenDropout = 0, AttentionDropout = 0, ActivationDropout = 0, FeatureProjectionDropout = 0, LayerDrop = 0,
    };
}
