using HArnESS.Modules;

namespace HArnESS.Encoders;

/// <summary>Published encoder shapes (and tiny ones for tests). Dropouts follow torchaudio's factory defaults;
/// mask settings follow the HF configs.</summary>
public static class EncoderPresets
{
    private static readonly ConvLayerSpec[] TinyCnn = [new(16, 10, 5), new(16, 3, 2), new(16, 3, 2), new(16, 2, 2)];

    /// <summary>HuBERT base (fairseq <c>hubert_base_ls960</c>, HF <c>facebook/hubert-base-ls960</c>): group-norm CNN,
    /// 768 × 12 layers, 12 heads, 3072 ffn, post-LN. 94,370,944 parameters without <c>masked_spec_embed</c>.</summary>
    public static SpeechEncoderConfig HubertBase { get; } = new()
    {
        ModelType = "hubert", HiddenDropout = 0.1, AttentionDropout = 0.1, ActivationDropout = 0.0,
        FeatureProjectionDropout = 0.1, LayerDrop = 0.05,
    };

    /// <summary>HuBERT large: layer-norm CNN without conv bias, 1024 × 24, 16 heads, 4096 ffn, pre-LN.</summary>
    public static SpeechEncoderConfig HubertLarge { get; } = new()
    {
        ModelType = "hubert", FrontEnd = new CnnFrontEndConfig { Norm = ConvNormMode.LayerNorm, Bias = false }, HiddenSize = 1024, NumLayers = 24,
        NumHeads = 16, IntermediateSize = 4096, LayerNormFirst = true,
        HiddenDropout = 0, AttentionDropout = 0, ActivationDropout = 0, FeatureProjectionDropout = 0, LayerDrop = 0,
    };

    /// <summary>HuBERT X-large: layer-norm CNN, 1280 × 48, 16 heads, 5120 ffn, pre-LN.</summary>
    public static SpeechEncoderConfig HubertXLarge { get; } = HubertLarge with { HiddenSize = 1280, NumLayers = 48, IntermediateSize = 5120 };

    /// <summary>wav2vec2 base: same shape as HuBERT base.</summary>
    public static SpeechEncoderConfig Wav2Vec2Base { get; } = new()
    {
        ModelType = "wav2vec2", ActivationDropout = 0.1, LayerDrop = 0.1,
    };

    /// <summary>wav2vec2 large (LibriSpeech): group-norm CNN, 1024 × 24, 16 heads, 4096 ffn, post-LN.</summary>
    public static SpeechEncoderConfig Wav2Vec2Large { get; } = Wav2Vec2Base with { HiddenSize = 1024, NumLayers = 24, NumHeads = 16, IntermediateSize = 4096 };

    /// <summary>wav2vec2 large LV-60k: layer-norm CNN with conv bias, 1024 × 24, 16 heads, 4096 ffn, pre-LN.</summary>
    public static SpeechEncoderConfig Wav2Vec2LargeLv60 { get; } = Wav2Vec2Large with
    {
        FrontEnd = new CnnFrontEndConfig { Norm = ConvNormMode.LayerNorm, Bias = true }, LayerNormFirst = true, AttentionDropout = 0,
        HiddenDropout = 0,
    };

    /// <summary>XLS-R 300M: the wav2vec2 large LV-60k shape.</summary>
    public static SpeechEncoderConfig XlsR300M { get; } = Wav2Vec2LargeLv60;

    /// <summary>XLS-R 1B: layer-norm CNN with conv bias, 1280 × 48, 16 heads, 5120 ffn, pre-LN.</summary>
    public static SpeechEncoderConfig XlsR1B { get; } = Wav2Vec2LargeLv60 with { HiddenSize = 1280, NumLayers = 48, IntermediateSize = 5120 };

    /// <summary>XLS-R 2B: 1920 × 48, 16 heads, 7680 ffn, pre-LN.</summary>
    public static SpeechEncoderConfig XlsR2B { get; } = Wav2Vec2LargeLv60 with { HiddenSize = 1920, NumLayers = 48, IntermediateSize = 7680 };

    /// <summary>mHuBERT-147 (<c>utter-project/mHuBERT-147</c>): the HuBERT base shape.</summary>
    public static SpeechEncoderConfig MHubert147 { get; } = HubertBase;

    /// <summary>DistilHuBERT's encoder (<c>ntu-spml/distilhubert</c>): HuBERT-base CNN and width, 2 layers. Its
    /// prediction heads (for teacher layers 4/8/12) belong to the distillation package.</summary>
    public static SpeechEncoderConfig DistilHubert { get; } = HubertBase with { NumLayers = 2, LayerDrop = 0 };

    /// <summary>A tiny post-LN model for tests: 4 conv layers of 16 channels (hop 80), width 32, 2 layers, 4 heads.</summary>
    public static SpeechEncoderConfig TinyPostLn { get; } = new()
    {
        FrontEnd = new CnnFrontEndConfig { Layers = TinyCnn },
        HiddenSize = 32, NumLayers = 2, NumHeads = 4, IntermediateSize = 64, PosConvKernel = 16, PosConvGroups = 4,
        LayerDrop = 0,
    };

    /// <summary>The tiny model in pre-LN form with a layer-norm CNN and conv bias (the large/XLS-R layout).</summary>
    public static SpeechEncoderConfig TinyPreLn { get; } = TinyPostLn with
    {
        ModelType = "wav2vec2", FrontEnd = new CnnFrontEndConfig { Layers = TinyCnn, Norm = ConvNormMode.LayerNorm, Bias = true }, LayerNormFirst = true,
    };

    /// <summary>A tiny fbank-front-end student: 80 Mel bins stacked by 2, projected to 32, width 32, 2 layers.</summary>
    public static SpeechEncoderConfig TinyFbank { get; } = TinyPostLn with
    {
        FrontEnd = new FbankFrontEndConfig { Stack = 2, ProjectionDim = 32 },
    };

    /// <summary>A student with the fbank front-end and DistilHuBERT's transformer (80 Mel × 2 → 512 → 768 × 2 layers).</summary>
    public static SpeechEncoderConfig FbankDistilHubert { get; } = DistilHubert with { FrontEnd = new FbankFrontEndConfig() };

    /// <summary>A tiny student with Wang et al.'s convolutional subsampler (80 Mel → Conv1d(k 5, stride 2) + GLU
    /// → 32), width 32, 2 layers: 20 ms frames like the CNN.</summary>
    public static SpeechEncoderConfig TinySubsampler { get; } = TinyPostLn with
    {
        FrontEnd = new Conv1dSubsamplerConfig { OutputChannels = 32 },
    };

    private static readonly Dictionary<string, SpeechEncoderConfig> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["hubert-base"] = HubertBase,
        ["hubert-large"] = HubertLarge,
        ["hubert-xlarge"] = HubertXLarge,
        ["wav2vec2-base"] = Wav2Vec2Base,
        ["wav2vec2-large"] = Wav2Vec2Large,
        ["wav2vec2-large-lv60"] = Wav2Vec2LargeLv60,
        ["xls-r-300m"] = XlsR300M,
        ["xls-r-1b"] = XlsR1B,
        ["xls-r-2b"] = XlsR2B,
        ["mhubert-147"] = MHubert147,
        ["distilhubert"] = DistilHubert,
        ["fbank-distilhubert"] = FbankDistilHubert,
        ["tiny-post-ln"] = TinyPostLn,
        ["tiny-pre-ln"] = TinyPreLn,
        ["tiny-fbank"] = TinyFbank,
        ["tiny-subsampler"] = TinySubsampler,
    };

    /// <summary>Every preset name accepted by <see cref="Get"/> (case-insensitive).</summary>
    public static IReadOnlyCollection<string> Names => ByName.Keys;

    /// <summary>The preset called <paramref name="name"/>.</summary>
    /// <exception cref="HArnessConfigException">The name is unknown (the message lists the known ones).</exception>
    public static SpeechEncoderConfig Get(string name) =>
        ByName.TryGetValue(name, out var c) ? c
            : throw new HArnessConfigException($"Unknown encoder preset \"{name}\"; known: {string.Join(", ", ByName.Keys)}.", "preset");
}
