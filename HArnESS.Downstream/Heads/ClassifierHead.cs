using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Downstream.Heads;

/// <summary>A linear classifier, or an MLP (<c>Linear → ReLU → Dropout</c> per hidden layer, then a linear output)
/// over pooled utterance vectors.</summary>
public sealed class ClassifierHead : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly nn.Module<Tensor, Tensor> layers;
#pragma warning restore IDE1006

    /// <summary>Creates the classifier.</summary>
    /// <param name="inputDim">Width of the pooled vector.</param>
    /// <param name="numClasses">Number of classes.</param>
    /// <param name="hiddenDims">Hidden widths; empty = linear classifier.</param>
    /// <param name="dropout">Dropout after each hidden layer.</param>
    /// <exception cref="ArgumentOutOfRangeException">A width or the class count is not positive, or dropout is outside [0, 1).</exception>
    public ClassifierHead(int inputDim, int numClasses, IReadOnlyList<int>? hiddenDims = null, double dropout = 0.1) : base(nameof(ClassifierHead))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numClasses);
        if (dropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "Must be in [0, 1).");
        var list = new List<nn.Module<Tensor, Tensor>>();
        var d = inputDim;
        foreach (var h in hiddenDims ?? [])
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(h, nameof(hiddenDims));
            list.Add(nn.Linear(d, h));
            list.Add(nn.ReLU());
            list.Add(nn.Dropout(dropout));
            d = h;
        }
        list.Add(nn.Linear(d, numClasses));
        layers = nn.Sequential(list);
        InputDim = inputDim;
        NumClasses = numClasses;
        RegisterComponents();
    }

    /// <summary>Width of the pooled vector.</summary>
    public int InputDim { get; }

    /// <summary>Number of classes.</summary>
    public int NumClasses { get; }

    /// <summary>Class logits.</summary>
    /// <param name="pooled"><c>[batch, inputDim]</c>.</param>
    /// <returns><c>[batch, classes]</c>.</returns>
    public override Tensor forward(Tensor pooled) => layers.forward(pooled);
}
