using System.Text.Json.Serialization;
using HArnESS.Encoders;

namespace HArnESS.Modules;

/// <summary>Log-Mel filter banks, frame stacking and a linear projection instead of the CNN (<c>"type": "fbank"</c>;
/// module <see cref="FbankFrontEnd"/>, keys <c>fbank_frontend.projection.*</c>). 10 ms frames stacked by 2 give
/// the CNN's 20 ms rate.</summary>
public sealed record FbankFrontEndConfig : FrontEndConfig
{
    /// <summary>The JSON type tag.</summary>
    public const string TypeName = "fbank";

    /// <summary>Fbank options, input scale and optional global CMVN (saved with the model).</summary>
    public FbankInput Input { get; init; } = new();

    /// <summary>10 ms fbank frames stacked per output frame (2 → 50 Hz, like the CNN).</summary>
    public int Stack { get; init; } = 2;

    /// <summary>Output dim of the linear projection (the CNN's output dim, 512, by default).</summary>
    public int ProjectionDim { get; init; } = 512;

    /// <inheritdoc/>
    [JsonIgnore]
    public override string Kind => TypeName;

    /// <inheritdoc/>
    [JsonIgnore]
    public override string ModuleName => "fbank_frontend";

    /// <inheritdoc/>
    [JsonIgnore]
    public override bool TakesWaveforms => false;

    /// <inheritdoc/>
    [JsonIgnore]
    public override int OutputDim => ProjectionDim;

    /// <inheritdoc/>
    public override long InputFrames(long samples) => Input.FeatureFrames(samples);

    /// <inheritdoc/>
    /// <remarks><c>floor(n / Stack)</c>: a trailing partial stack is dropped.</remarks>
    public override long OutputFramesFromInput(long inputFrames) => inputFrames / Stack;

    /// <inheritdoc/>
    public override long CountParameters() => (long)Input.FeatureDim * Stack * ProjectionDim + ProjectionDim;

    /// <inheritdoc/>
    public override long CountMacs(long samples) => OutputFrames(samples) * Input.FeatureDim * Stack * ProjectionDim;

    /// <inheritdoc/>
    public override void Validate(ValidationErrors errors, int? sampleRate = null)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (Input is null) errors.Add($"{Prefix}.{nameof(Input)}", $"{Prefix}.{nameof(Input)} must be given.");
        else Input.Validate(errors, $"{Prefix}.{nameof(Input)}", sampleRate);
        EncoderLimits.InRange(errors, Stack, 1, EncoderLimits.MaxFbankStack, $"{Prefix}.{nameof(Stack)}");
        EncoderLimits.InRange(errors, ProjectionDim, 1, EncoderLimits.MaxWidth, $"{Prefix}.{nameof(ProjectionDim)}");
    }

    /// <inheritdoc/>
    public override IFrontEnd Create() => new FbankFrontEnd(this);
}
