using HArnESS.Data;
using HArnESS.Distillation.Targets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HArnESS.Distillation.DependencyInjection;

/// <summary>
/// The container's entry to the target generator: starts <see cref="TargetGenerator"/> plans and runs them with the
/// container's logger, logging each reported step of the dump, PCA, k-means and labelling and the products written.
/// Registered by <c>AddHArnessDistillation</c>; code without a container uses <see cref="TargetGenerator"/> directly.
/// </summary>
public sealed class TargetGeneratorService
{
    private readonly ILogger _log;

    /// <summary>Creates the service (the container does this; see <c>AddHArnessDistillation</c>).</summary>
    /// <param name="options">The registered distillation options; their logger factory is used.</param>
    public TargetGeneratorService(IOptions<DistillationServiceOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _log = options.Value.LoggerFactory.CreateLogger("HArnESS.Distillation.Targets.TargetGenerator");
    }

    /// <summary>Starts a plan for a manifest (see <see cref="TargetGenerator.From(Manifest)"/>).</summary>
    public TargetBuilder From(Manifest manifest) => TargetGenerator.From(manifest);

    /// <summary>Starts a plan for a manifest file (fairseq tsv).</summary>
    /// <exception cref="HArnessFormatException">The manifest is malformed (file and line named).</exception>
    public TargetBuilder From(string manifestPath) => TargetGenerator.From(manifestPath);

    /// <summary>Runs <paramref name="plan"/> on the calling thread (<see cref="TargetBuilder.FitAsync"/>), logging every
    /// progress report at information level and forwarding it to <paramref name="progress"/>, then the result.</summary>
    /// <param name="plan">The plan.</param>
    /// <param name="progress">Also receives every report, or null.</param>
    /// <param name="cancellationToken">As for <see cref="TargetBuilder.FitAsync"/>; a cancellation is logged.</param>
    /// <exception cref="HArnessValidationException">The plan is invalid (every problem at once); logged as an error first.</exception>
    public async Task<TargetResult> FitAsync(TargetBuilder plan, IProgress<TargetProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var logging = new LoggingProgress(_log, progress);
        try
        {
            var result = await plan.FitAsync(logging, cancellationToken).ConfigureAwait(false);
            _log.LogInformation("Targets written to '{OutputDir}': labels {LabelPath}, codebook {CodebookPath}, inertia {Inertia:G4}; reused stages: {Reused}",
                result.OutputDir, result.LabelPath, result.CodebookPath, result.Inertia, result.Reused.Count == 0 ? "none" : string.Join(", ", result.Reused));
            return result;
        }
        catch (HArnessValidationException e)
        {
            _log.LogError("The target plan is invalid: {Errors}", string.Join("; ", e.Errors.Select(x => $"{x.Option}: {x.Message}")));
            throw;
        }
        catch (OperationCanceledException)
        {
            _log.LogWarning("Target generation cancelled; finished products stay for a restart");
            throw;
        }
    }

    private sealed class LoggingProgress(ILogger log, IProgress<TargetProgress>? inner) : IProgress<TargetProgress>
    {
        public void Report(TargetProgress value)
        {
            log.LogInformation("{Progress}", value);
            inner?.Report(value);
        }
    }
}
