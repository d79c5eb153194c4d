using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Training;

/// <summary>
/// AdamW (Loshchilov and Hutter) over float32 master tensors, the update PyTorch's
/// <c>torch.optim.AdamW</c> (single-tensor path, <c>amsgrad=False</c>) computes:
/// <c>p ← p·(1 − lr·wd)</c>; <c>m ← β₁m + (1 − β₁)g</c>; <c>v ← β₂v + (1 − β₂)g²</c>;
/// <c>p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)</c>, with <c>t</c> counted per tensor. Its moments and
/// step counts can be read out and restored exactly (<see cref="State"/>, <see cref="LoadState"/>), which the
/// trainer's checkpoints rely on.
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly List<Slot> _slots = [];

    /// <summary>Creates the optimiser.</summary>
    /// <param name="options">β₁, β₂, ε.</param>
    public AdamW(AdamWOptions? options = null)
    {
        Options = options ?? new AdamWOptions();
        var errors = new ValidationErrors();
        Options.Validate(errors);
        errors.ThrowIfAny(nameof(AdamWOptions));
    }

    /// <summary>β₁, β₂, ε.</summary>
    public AdamWOptions Options { get; }

    /// <summary>Names of the tensors this optimiser updates, in the order added.</summary>
    public IReadOnlyList<string> Names => _slots.Select(s => s.Name).ToArray();

    /// <summary>Adds a float32 tensor to optimise.</summary>
    /// <param name="name">Unique name (the key of its state).</param>
    /// <param name="master">The float32 values the update is applied to, in place.</param>
    /// <param name="group">The parameter group it belongs to (its learning rate and weight decay).</param>
    /// <exception cref="ArgumentException">A duplicate name or a tensor that is not float32.</exception>
    public void Add(string name, Tensor master, AdamWGroup group)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(master);
        ArgumentNullException.ThrowIfNull(group);
        if (master.dtype != ScalarType.Float32)
            throw new ArgumentException($"AdamW keeps float32 masters; '{name}' is {master.dtype}.", nameof(master));
        if (_slots.Any(s => s.Name == name)) throw new ArgumentException($"'{name}' was added twice.", nameof(name));
        _slots.Add(new Slot(name, master, group, zeros_like(master), zeros_like(master)));
    }

    /// <summary>The number of updates applied to tensor <paramref name="name"/> (its <c>t</c>).</summary>
    public long StepCount(string name) => Find(name).Step;

    /// <summary>Applies one update to every tensor that has a gradient in <paramref name="gradients"/>; tensors
    /// without one keep their values and step count.</summary>
    /// <param name="gradients">Float32 gradients by name (any subset of <see cref="Names"/>).</param>
    /// <param name="lrFactor">The schedule's factor of each group's peak learning rate.</param>
    public void Step(IReadOnlyDictionary<string, Tensor> gradients, double lrFactor)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        using var noGrad = no_grad();
        double b1 = Options.Beta1, b2 = Options.Beta2, eps = Options.Epsilon;
        foreach (var s in _slots)
        {
            if (!gradients.TryGetValue(s.Name, out var g)) continue;
            using var scope = NewDisposeScope();
            var lr = s.Group.LearningRate * lrFactor;
            s.Step++;
            using var decay = (1 - lr * s.Group.WeightDecay).ToScalar();
            using var beta1 = b1.ToScalar();
            using var beta2 = b2.ToScalar();
            using var oneMinusBeta1 = (1 - b1).ToScalar();
            using var oneMinusBeta2 = (1 - b2).ToScalar();
            if (s.Group.WeightDecay != 0) s.Master.mul_(decay);
            s.ExpAvg.mul_(beta1).add_(g, alpha: oneMinusBeta1);
            s.ExpAvgSq.mul_(beta2).addcmul_(g, g, value: oneMinusBeta2);
            var bc1 = 1 - Math.Pow(b1, s.Step);
            var bc2Sqrt = Math.Sqrt(1 - Math.Pow(b2, s.Step));
            using var bc2SqrtS = bc2Sqrt.ToScalar();
            using var epsS = eps.ToScalar();
            using var stepSize = (-lr / bc1).ToScalar();
            var denom = s.ExpAvgSq.sqrt().div_(bc2SqrtS).add_(epsS, Scalars.One);
            s.Master.addcdiv_(s.ExpAvg, denom, value: stepSize);
        }
    }

    /// <summary>The optimiser state as tensors (<c>{name}.exp_avg</c>, <c>{name}.exp_avg_sq</c>; copies on the CPU)
    /// and step counts by name.</summary>
    public (Dictionary<string, Tensor> Tensors, Dictionary<string, long> Steps) State()
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var steps = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var s in _slots)
        {
            tensors[s.Name + ".exp_avg"] = s.ExpAvg.detach().cpu().clone();
            tensors[s.Name + ".exp_avg_sq"] = s.ExpAvgSq.detach().cpu().clone();
            steps[s.Name] = s.Step;
        }
        return (tensors, steps);
    }

    /// <summary>Restores a state read by <see cref="State"/> (exactly: the moments are copied bit for bit).</summary>
    /// <param name="tensors">Moments by <c>{name}.exp_avg</c> / <c>{name}.exp_avg_sq</c>.</param>
    /// <param name="steps">Step counts by name.</param>
    /// <param name="source">The file the state came from, for errors.</param>
    /// <exception cref="HArnessCheckpointException">A tensor is missing or mis-shaped.</exception>
    public void LoadState(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, long> steps, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(steps);
        using var noGrad = no_grad();
        foreach (var s in _slots)
        {
            foreach (var (suffix, target) in new[] { (".exp_avg", s.ExpAvg), (".exp_avg_sq", s.ExpAvgSq) })
            {
                if (!tensors.TryGetValue(s.Name + suffix, out var t))
                    throw new HArnessCheckpointException($"Optimiser state '{s.Name}{suffix}' is missing from '{source}'.", source);
                if (!t.shape.SequenceEqual(target.shape))
                    throw new HArnessCheckpointException(
                        $"Optimiser state '{s.Name}{suffix}' in '{source}' has shape [{string.Join(", ", t.shape)}], expected [{string.Join(", ", target.shape)}].", source);
                target.copy_(t);
            }
            s.Step = steps.TryGetValue(s.Name, out var n) ? n
                : throw new HArnessCheckpointException($"Optimiser step count of '{s.Name}' is missing from '{source}'.", source);
        }
    }

    /// <summary>Disposes the moments (not the masters, which belong to the caller).</summary>
    public void Dispose()
    {
        foreach (var s in _slots)
        {
            s.ExpAvg.Dispose();
            s.ExpAvgSq.Dispose();
        }
        _slots.Clear();
    }

    private Slot Find(string name) => _slots.FirstOrDefault(s => s.Name == name)
        ?? throw new ArgumentException($"'{name}' is not optimised here.", nameof(name));

    private sealed class Slot(string name, Tensor master, AdamWGroup group, Tensor expAvg, Tensor expAvgSq)
    {
        public string Name { get; } = name;
        public Tensor Master { get; } = master;
        public AdamWGroup Group { get; } = group;
        public Tensor ExpAvg { get; } = expAvg;
        public Tensor ExpAvgSq { get; } = expAvgSq;
        public long Step { get; set; }
    }
}
