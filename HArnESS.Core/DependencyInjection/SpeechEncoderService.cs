using HArnESS.Checkpoints;
using HArnESS.Encoders;
using HArnESS.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HArnESS.DependencyInjection;

/// <summary>The container's <see cref="ISpeechEncoderFactory"/>: depends on <see cref="RuntimeInfo"/>, so resolving it
/// starts the runtime first.</summary>
internal sealed class SpeechEncoderService(RuntimeInfo runtime, ILoggerFactory? loggerFactory = null) : ISpeechEncoderFactory
{
    private readonly ILoggerFactory _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
    private readonly ILogger _log = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("HArnESS.Encoders.SpeechEncoderFactory");

    public SpeechEncoder Create(SpeechEncoderConfig config)
    {
        var encoder = SpeechEncoderFactory.Create(config);
        _log.LogInformation("Built a {ModelType} encoder: {Layers} layers × {Width}, {Parameters:N0} parameters, on {Device}",
            config.ModelType, config.NumLayers, config.HiddenSize, encoder.CountParameters(), runtime.Device);
        return encoder;
    }

    public SpeechEncoder CreatePreset(string name) => Create(EncoderPresets.Get(name));

    public SpeechEncoder Load(string path, CheckpointLoadOptions? options = null)
    {
        options ??= CheckpointLoadOptions.Default;
        if (ReferenceEquals(options.LoggerFactory, NullLoggerFactory.Instance)) options = options with { LoggerFactory = _loggerFactory };
        var (encoder, report) = SpeechEncoder.LoadWithReport(path, options);
        _log.LogInformation("Loaded encoder '{Path}': {Layers} layers × {Width}, {Loaded} tensors{Lenient}",
            path, encoder.Config.NumLayers, encoder.Config.HiddenSize, report.Loaded, report.IsClean ? "" : " (lenient, not clean)");
        return encoder;
    }

    public void Save(SpeechEncoder encoder, string directory)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        encoder.Save(directory);
        _log.LogInformation("Saved encoder to '{Directory}'", directory);
    }
}
