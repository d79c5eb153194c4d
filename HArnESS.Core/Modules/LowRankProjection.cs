using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Modules;

/// <summary>
/// A trainable rank-r map <c>D → r → D'</c> as two factors, <c>y = up(down(x))</c> with <c>down: D→r</c> and
/// <c>up: r→D'</c> (parameters <c>down.weight [r, D]</c>, optional <c>down.bias</c>, <c>up.weight [D', r]</c>,
/// <c>up.bias [D']</c>). Used to (a) compact teacher targets before k-means (from a PCA), (b) project
/// teacher layers to a thin student's width (<see cref="Encode"/> with r = the student width), and (c) factorise a
/// large weight into two thin ones (<see cref="FromWeight"/>, <see cref="Factorize"/>). Initialising from a PCA
/// (<c>LowRankProjection.FromPca</c>, <c>FromFeatures</c>) lives beside the PCA in <c>HArnESS.Distillation.Targets</c>.
/// </summary>
public sealed class LowRankProjection : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly Linear down;
    private readonly Linear up;
#pragma warning restore IDE1006

    /// <summary>Creates a randomly initialised projection (TorchSharp's Linear init).</summary>
    /// <param name="inputDim">D.</param>
    /// <param name="rank">r.</param>
    /// <param name="outputDim">D'.</param>
    /// <param name="downBias">Whether the first factor has a bias.</param>
    /// <param name="upBias">Whether the second factor has a bias.</param>
    /// <exception cref="HArnessConfigException">A size is not positive.</exception>
    public LowRankProjection(int inputDim, int rank, int outputDim, bool downBias = false, bool upBias = true)
        : base(nameof(LowRankProjection))
    {
        if (inputDim < 1) throw new HArnessConfigException($"inputDim must be positive, got {inputDim}.", nameof(inputDim));
        if (outputDim < 1) throw new HArnessConfigException($"outputDim must be positive, got {outputDim}.", nameof(outputDim));
        if (rank < 1) throw new HArnessConfigException($"rank must be positive, got {rank}.", nameof(rank));
        Runtime.HArnessRuntime.EnsureInitialized();
        down = nn.Linear(inputDim, rank, hasBias: downBias);
        up = nn.Linear(rank, outputDim, hasBias: upBias);
        RegisterComponents();
    }

    /// <summary>D.</summary>
    public int InputDim => (int)down.weight!.shape[1];

    /// <summary>r.</summary>
    public int Rank => (int)down.weight!.shape[0];

    /// <summary>D'.</summary>
    public int OutputDim => (int)up.weight!.shape[0];

    /// <summary>The first factor <c>D → r</c>.</summary>
    public Linear Down => down;

    /// <summary>The second factor <c>r → D'</c>.</summary>
    public Linear Up => up;

    /// <summary>Squared Frobenius norm the initialising truncation dropped (Σ of the discarded σ², or of the discarded
    /// PCA variances × (n − 1)); 0 for a random init.</summary>
    public double DiscardedEnergy { get; private set; }

    /// <summary>Maps <c>[.., D]</c> → <c>[.., D']</c>.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return up.forward(down.forward(input)).MoveToOuterDisposeScope();
    }

    /// <summary>The rank-r code <c>[.., D]</c> → <c>[.., r]</c> (the first factor only).</summary>
    public Tensor Encode(Tensor input) => down.forward(input);

    /// <summary>The dense <c>[D', D]</c> matrix the two factors multiply to.</summary>
    public Tensor ToDense()
    {
        using var _ = torch.no_grad();
        return up.weight!.mm(down.weight!);
    }

    /// <summary>
    /// Truncated SVD of a weight: <c>W ≈ U Σ Vᵀ = (U√Σ)(√Σ Vᵀ)</c>, <c>down.weight = √Σ Vᵀ [r, in]</c>,
    /// <c>up.weight = U√Σ [out, r]</c>, <c>up.bias = bias</c>. The squared Frobenius error equals
    /// <see cref="DiscardedEnergy"/> (Eckart–Young).
    /// </summary>
    /// <param name="weight"><c>[out, in]</c> (a Linear's weight).</param>
    /// <param name="bias"><c>[out]</c> or null.</param>
    /// <param name="rank">Rank by number (≤ min(out, in)), or null to use <paramref name="energyThreshold"/>.</param>
    /// <param name="energyThreshold">Rank = fewest singular values whose σ² sum to this fraction of the total, in (0, 1].</param>
    /// <exception cref="HArnessConfigException">Neither or both rank options, or out of range.</exception>
    public static LowRankProjection FromWeight(Tensor weight, Tensor? bias = null, int? rank = null, double? energyThreshold = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.dim() != 2) throw new HArnessConfigException($"weight must be [out, in], got [{string.Join(", ", weight.shape)}].", nameof(weight));
        if (bias is not null && (bias.dim() != 1 || bias.shape[0] != weight.shape[0]))
            throw new HArnessConfigException($"bias must be [{weight.shape[0]}], got [{string.Join(", ", bias.shape)}].", nameof(bias));
        Runtime.HArnessRuntime.EnsureInitialized();
        using var scope = NewDisposeScope();
        var (u, s, vh) = torch.linalg.svd(weight.detach().to(ScalarType.Float64, torch.CPU), fullMatrices: false);
        var energy = s.pow(Scalars.Of(2L));
        var r = ChooseRank(energy, rank, energyThreshold, nameof(rank));
        var root = s.narrow(0, 0, r).sqrt();
        var m = new LowRankProjection((int)weight.shape[1], r, (int)weight.shape[0], downBias: false, upBias: bias is not null);
        using (torch.no_grad())
        {
            m.down.weight!.copy_((root.unsqueeze(1) * vh.narrow(0, 0, r)).to(ScalarType.Float32));
            m.up.weight!.copy_((u.narrow(1, 0, r) * root.unsqueeze(0)).to(ScalarType.Float32));
            if (bias is not null) m.up.bias!.copy_(bias.detach().cpu());
        }
        m.DiscardedEnergy = energy.narrow(0, r, energy.shape[0] - r).sum().item<double>();
        return m;
    }

    /// <summary>
    /// Factorises a Linear layer into two thin ones with the same outputs up to the truncation error:
    /// <c>Sequential(Linear(in, r, bias: false), Linear(r, out, bias))</c>, weights from <see cref="FromWeight"/>.
    /// </summary>
    public static nn.Module<Tensor, Tensor> Factorize(Linear linear, int? rank = null, double? energyThreshold = null)
    {
        ArgumentNullException.ThrowIfNull(linear);
        using var lr = FromWeight(linear.weight!, linear.bias, rank, energyThreshold);
        var first = nn.Linear(lr.InputDim, lr.Rank, hasBias: false);
        var second = nn.Linear(lr.Rank, lr.OutputDim, hasBias: linear.bias is not null);
        using (torch.no_grad())
        {
            first.weight!.copy_(lr.down.weight!);
            second.weight!.copy_(lr.up.weight!);
            if (linear.bias is not null) second.bias!.copy_(lr.up.bias!);
        }
        var seq = nn.Sequential(("0", first), ("1", second));
        return seq.to(linear.weight!.device);
    }

    /// <summary>Rank from a number or an energy/variance fraction over decreasing <paramref name="energy"/> values.</summary>
    private static int ChooseRank(Tensor energy, int? rank, double? threshold, string optionName)
    {
        var max = (int)energy.shape[0];
        if ((rank is null) == (threshold is null))
            throw new HArnessConfigException("Give exactly one of rank or energyThreshold.", optionName);
        if (rank is { } r)
        {
            if (r < 1 || r > max) throw new HArnessConfigException($"rank must be in [1, {max}], got {r}.", optionName);
            return r;
        }
        var t = threshold!.Value;
        if (!(t > 0) || t > 1) throw new HArnessConfigException($"energyThreshold must be in (0, 1], got {t}.", "energyThreshold");
        using var cum = energy.cumsum(0L) / energy.sum();
        var c = cum.cpu().data<double>().ToArray();
        var k = 0;
        while (k < c.Length - 1 && c[k] < t - 1e-12) k++;
        return k + 1;
    }
}
