using static TorchSharp.torch;

namespace HArnESS.Training;

/// <summary>Raised after an update's gradients are accumulated, unscaled and multiplied, before clipping and the
/// optimiser step: the float32 gradient of every trained parameter, keyed <c>{module}.{parameter}</c>. The tensors
/// belong to the trainer and are only valid during the event (copy what you keep).</summary>
public sealed class GradientsReadyEventArgs : EventArgs
{
    internal GradientsReadyEventArgs(long step, IReadOnlyDictionary<string, Tensor> gradients)
    {
        Step = step;
        Gradients = gradients;
    }

    /// <summary>The update (0-based).</summary>
    public long Step { get; }

    /// <summary>Gradients by <c>{module}.{parameter}</c>.</summary>
    public IReadOnlyDictionary<string, Tensor> Gradients { get; }
}
