using HArnESS.Downstream.Decoding;
using HArnESS.Downstream.Heads;
using HArnESS.Downstream.Metrics;
using HArnESS.Downstream.Text;
using HArnESS.Downstream.Upstream;

namespace HArnESS.Downstream;

/// <summary>The downstream behaviour a host configures once: how the upstream is used, how transcripts are
/// normalised and decoded, how trials are scored and at which DCF operating point.</summary>
public sealed record DownstreamOptions
{
    /// <summary>Upstream use (frozen by default, SUPERB weighted sum).</summary>
    public UpstreamOptions Upstream { get; init; } = new();

    /// <summary>Transcript normalisation for vocabularies and WER/CER.</summary>
    public TextNormalizationOptions Normalization { get; init; } = new();

    /// <summary>CTC beam search; null = greedy decoding. Default null.</summary>
    public CtcBeamSearchOptions? Beam { get; init; }

    /// <summary>Trial scoring.</summary>
    public CosineScoringOptions Scoring { get; init; } = new();

    /// <summary>DCF operating point.</summary>
    public DcfOptions Dcf { get; init; } = new();

    /// <summary>Checks every section at once; failures are reported with their section prefix (<c>Dcf.TargetPrior</c>).</summary>
    /// <exception cref="HArnessValidationException">Any section is invalid; every problem is listed.</exception>
    public void Validate()
    {
        var errors = new ValidationErrors();
        void Check(string prefix, Action validate)
        {
            try { validate(); }
            catch (HArnessValidationException ex) { errors.AddRange(ex.Errors, prefix); }
        }
        Check(nameof(Upstream), () => (Upstream ?? throw Null(nameof(Upstream))).Validate());
        Check(nameof(Scoring), () => (Scoring ?? throw Null(nameof(Scoring))).Validate());
        Check(nameof(Dcf), () => (Dcf ?? throw Null(nameof(Dcf))).Validate());
        if (Beam is not null) Check(nameof(Beam), Beam.Validate);
        if (Normalization is null) errors.Add(nameof(Normalization), $"{nameof(Normalization)} must not be null.");
        errors.ThrowIfAny(nameof(DownstreamOptions));
    }

    private static HArnessValidationException Null(string name) =>
        new(nameof(DownstreamOptions), [new ValidationError(name, $"{name} must not be null.")]);
}
