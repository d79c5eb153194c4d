using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;

namespace HArnESS.Training;

/// <summary>
/// One named module the trainer optimises ("upstream", "head", "student", "projection"), with its own
/// optimiser settings: its parameters form two AdamW groups, with and without weight decay. Names are the
/// checkpoint's key prefixes (<c>model.{Name}.{parameter}</c>).
/// </summary>
/// <param name="Name">Unique name (letters, digits, '_', '-').</param>
/// <param name="Module">The module; the trainer moves it to the device and sets training/eval mode on it.</param>
public sealed record TrainableModule(string Name, torch.nn.Module Module)
{
    /// <summary>Peak learning rate of this module's groups (the schedule scales it); null uses
    /// <see cref="TrainerOptions.LearningRate"/>. Fine-tuning gives the upstream a smaller one than the head.</summary>
    public double? LearningRate { get; init; }

    /// <summary>Decoupled weight decay of the decaying group; null uses <see cref="TrainerOptions.WeightDecay"/>.</summary>
    public double? WeightDecay { get; init; }

    /// <summary>The module's parameters receive no gradient and no update for the first this many updates
    /// (fairseq's <c>freeze_finetune_updates</c>); 0 = trained from the start.</summary>
    public long FreezeUpdates { get; init; }

    /// <summary>Multiplies this module's gradients after backward (DistilHuBERT's <c>feature_grad_mult</c> 0.1 on
    /// the CNN front-end: for the first module of a network this equals scaling the gradient that flows into it).
    /// 1 = unchanged; 0 trains nothing but keeps it in the graph.</summary>
    public double GradientMultiplier { get; init; } = 1.0;

    /// <summary>Decides which parameters get no weight decay; null uses <see cref="DefaultNoWeightDecay"/>.</summary>
    public Func<string, Parameter, bool>? NoWeightDecay { get; init; }

    /// <summary>Only parameters whose name this accepts are trained (the others keep their values and get no
    /// optimiser state, e.g. "only the top 2 layers"); null trains every parameter with <c>requires_grad</c>.</summary>
    public Func<string, bool>? TrainParameter { get; init; }

    /// <summary>The default no-decay rule: one-dimensional tensors (biases, norm scales and shifts, weight-norm
    /// <c>weight_g</c>, <c>masked_spec_embed</c>), parameters of norm layers (a name segment containing
    /// "norm"), and embeddings (a name segment containing "embedding" or starting with "label_emb").</summary>
    /// <param name="name">The parameter's name within its module.</param>
    /// <param name="parameter">The parameter.</param>
    public static bool DefaultNoWeightDecay(string name, Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(parameter);
        if (parameter.dim() <= 1) return true;
        foreach (var seg in name.Split('.'))
        {
            var s = seg.ToLowerInvariant();
            if (s.Contains("norm", StringComparison.Ordinal) || s.Contains("embedding", StringComparison.Ordinal)
                || s.StartsWith("label_emb", StringComparison.Ordinal))
                return true;
        }
        return false;
    }
}
