using HArnESS.Distillation.Losses;

namespace HArnESS.Distillation.Pipelines;

/// <summary>The losses of a distillation run: the regression loss on every predicted teacher layer, plus, when
/// <see cref="Discriminative"/> is set, Wang et al.'s discriminative loss against the teacher's frozen codebook.</summary>
public sealed record DistillationLossOptions
{
    /// <summary>The regression loss (default DistilHuBERT's L1 + λ·−log σ(cos), λ = 1).</summary>
    public RegressionLossOptions Regression { get; init; } = RegressionLossOptions.DistilHubert;

    /// <summary>The discriminative loss (KL to the teacher's code distribution, weighted beside the regression); null
    /// (default) = off. It needs a teacher with a codebook (a masked-prediction head).</summary>
    public DiscriminativeLossOptions? Discriminative { get; init; }

    /// <summary>Turns the discriminative loss on with its defaults (τ = 0.1) and <paramref name="weight"/>.</summary>
    /// <param name="weight">Its weight beside the regression loss (default 1).</param>
    public DistillationLossOptions WithDiscriminative(double weight = 1.0) => this with { Discriminative = new DiscriminativeLossOptions { Weight = weight } };

    /// <summary>Adds every invalid value to <paramref name="errors"/>, named under <c>Loss.</c>.</summary>
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (Regression is null) errors.Add("Loss.Regression", "Loss.Regression must not be null.");
        else Collect(errors, "Loss.Regression", Regression.Validate);
        if (Discriminative is not null) Collect(errors, "Loss.Discriminative", Discriminative.Validate);
    }

    private static void Collect(ValidationErrors e, string name, Action validate)
    {
        try { validate(); }
        catch (HArnessValidationException ex) { e.AddRange(ex.Errors, name); }
        catch (HArnessConfigException ex) { e.Add(name, ex.Message); }
    }
}
