using static TorchSharp.torch;

namespace HArnESS.Training;

/// <summary>What the trainer tells an objective about the step it is computing: the update number, the batch's
/// position, the device and compute dtype, and random sources seeded for this step (so a resumed run draws the same
/// masks, crops and dropout as an uninterrupted one).</summary>
public sealed class TrainingStepContext
{
    internal TrainingStepContext(long step, int microStep, BatchPosition position, bool isTraining, Device device,
        ScalarType computeDType, Generator generator, Random random)
    {
        Step = step;
        MicroStep = microStep;
        Position = position;
        IsTraining = isTraining;
        Device = device;
        ComputeDType = computeDType;
        Generator = generator;
        Random = random;
    }

    /// <summary>The optimiser update this batch belongs to (0-based; the learning rate of this update is the
    /// schedule's value at this step). During validation: the update after which validation runs.</summary>
    public long Step { get; }

    /// <summary>Which batch of an accumulated update this is (0 … <see cref="TrainerOptions.AccumulationSteps"/> − 1).</summary>
    public int MicroStep { get; }

    /// <summary>Where the batch came from in the source.</summary>
    public BatchPosition Position { get; }

    /// <summary>True in training (modules in training mode, gradients on); false in validation (eval mode, no grad).</summary>
    public bool IsTraining { get; }

    /// <summary>The device the modules are on.</summary>
    public Device Device { get; }

    /// <summary>Float32, or BFloat16/Float16 under mixed precision: the dtype of the compute weights (matmuls and
    /// convolutions); norms keep float32 parameters.</summary>
    public ScalarType ComputeDType { get; }

    /// <summary>A libtorch CPU generator seeded for this step (span masks: pass it to
    /// <c>SpeechEncoder.ComputeTimeMask</c>). In validation it is seeded the same way every time.</summary>
    public Generator Generator { get; }

    /// <summary>A managed generator seeded for this step (segment shuffles, managed-side choices).</summary>
    public Random Random { get; }

    /// <summary>Moves a floating-point input to <see cref="Device"/> and <see cref="ComputeDType"/>; other dtypes
    /// (lengths, masks, labels) only move. The result is always a new tensor in libtorch's own (64-byte aligned)
    /// memory: <c>torch.tensor(float[])</c> wraps a pinned managed array whose alignment changes from run to run,
    /// and libtorch's vectorised kernels then sum in a different order (last-bit differences), which would break
    /// bit-exact resume.</summary>
    /// <param name="input">A batch tensor.</param>
    public Tensor CastInput(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var target = input.is_floating_point() ? ComputeDType : input.dtype;
        if (input.device == Device && input.dtype == target) return input.clone();
        return input.to(target, Device, copy: true);
    }
}
