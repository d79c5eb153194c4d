using HArnESS.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Offline;

/// <summary>Where and how <see cref="OfflineTeacherTargets.Dump"/> writes a teacher's layer outputs: the folder,
/// the shard size, the stored element type and how the audio is read.</summary>
public sealed record OfflineTargetsOptions
{
    /// <summary>The dump folder (<c>offline-targets.json</c> and <c>shard-NNNNN.safetensors</c>). Required.</summary>
    public required string Directory { get; init; }

    /// <summary>Utterances per shard file (default 64: about 150 MB for three 768-wide layers of 10 s utterances in
    /// float16). A shard is the unit a rerun reuses and the unit held in memory while it is written.</summary>
    public int UtterancesPerShard { get; init; } = 64;

    /// <summary>Stored element type: <see cref="ScalarType.Float16"/> (default, half the disk and reads) or
    /// <see cref="ScalarType.Float32"/>. Part of the signature; targets are read back as float32.</summary>
    public ScalarType StoredType { get; init; } = ScalarType.Float16;

    /// <summary>How the audio is read and checked (sample rate, resampling, down-mix); part of the signature.</summary>
    public AudioDatasetOptions Audio { get; init; } = AudioDatasetOptions.Default;

    /// <summary>Logs the dump (shards reused and written, the throughput).</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Checks every value and reports all failures at once.</summary>
    /// <exception cref="HArnessValidationException">Every invalid value, named.</exception>
    public void Validate()
    {
        var errors = new ValidationErrors();
        errors.Require(!string.IsNullOrWhiteSpace(Directory), nameof(Directory), "Directory must name the dump folder.");
        errors.Require(UtterancesPerShard >= 1, nameof(UtterancesPerShard), $"UtterancesPerShard must be at least 1, got {UtterancesPerShard}.");
        errors.Require(StoredType is ScalarType.Float16 or ScalarType.Float32, nameof(StoredType), $"StoredType must be Float16 or Float32, got {StoredType}.");
        errors.Require(Audio is not null, nameof(Audio), "Audio must not be null.");
        errors.Require(LoggerFactory is not null, nameof(LoggerFactory), "LoggerFactory must not be null.");
        errors.ThrowIfAny(nameof(OfflineTargetsOptions));
    }
}
