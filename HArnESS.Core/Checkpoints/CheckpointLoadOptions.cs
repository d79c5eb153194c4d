using HArnESS.Encoders;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace HArnESS.Checkpoints;

/// <summary>How a speech-encoder checkpoint is loaded. Every property is optional.</summary>
public sealed record CheckpointLoadOptions
{
    /// <summary>
    /// When true, missing, unexpected and mis-shaped tensors are only reported (<see cref="LoadReport"/>) and the
    /// restricted unpickler keeps unknown globals as inert placeholders; when false (default) any of them fails the
    /// load with a <see cref="HArnessCheckpointException"/> naming the keys.
    /// </summary>
    public bool Lenient { get; init; }

    /// <summary>Use this config instead of reading or inferring one.</summary>
    public SpeechEncoderConfig? Config { get; init; }

    /// <summary>Attention heads when the config is inferred from tensor shapes (heads cannot be seen in the weights).
    /// Null: only the published widths get a head count (768 → 12, 1024/1280/1920 → 16, listed in
    /// <see cref="LoadReport.Inferred"/>); any other width without a config is refused, naming this option.</summary>
    public int? NumHeads { get; init; }

    /// <summary>Conv strides when the config is inferred from tensor shapes (strides cannot be seen in the weights).
    /// Null: kernel 10 → 5, 3 → 2, 2 → 2 (the wav2vec2 stack); other kernels need this option.</summary>
    public IReadOnlyList<int>? ConvStrides { get; init; }

    /// <summary>Pre-LN (true) or post-LN (false) when the config is inferred from tensor shapes. Null: pre-LN exactly
    /// when the conv stack uses layer norm, as in every published wav2vec2/HuBERT/XLS-R model.</summary>
    public bool? LayerNormFirst { get; init; }

    /// <summary>Device the loaded model is moved to (CPU when null).</summary>
    public Device? Device { get; init; }

    /// <summary>Element type the loaded model is converted to (the stored float type when null, usually float32).</summary>
    public ScalarType? DType { get; init; }

    /// <summary>Where the load logs: every inferred config field (warning), a lenient load's report (warning when it
    /// is not clean). Default <see cref="NullLoggerFactory.Instance"/>.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>The default options.</summary>
    public static CheckpointLoadOptions Default { get; } = new();
}
