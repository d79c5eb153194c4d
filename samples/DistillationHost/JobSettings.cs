namespace HArnESS.Samples.DistillationHost;

/// <summary>The sample's settings (section "Distillation" of appsettings.json, or --steps/--out/--device/--teacher/--data).</summary>
internal sealed record JobSettings
{
    /// <summary>Optimiser updates in the whole run (a resumed run counts the checkpoint's).</summary>
    public long Steps { get; init; } = 60;

    /// <summary>Output folder: checkpoints/, teacher/ (when built here) and student/.</summary>
    public string Output { get; init; } = Path.Combine("runs", "distillation-host");

    /// <summary>auto, cpu or cuda:N.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>A teacher checkpoint; null builds a tiny teacher on the first run and saves it in Output/teacher.</summary>
    public string? Teacher { get; init; }

    /// <summary>The corpus folder with train.tsv (default: the repository's data/demo).</summary>
    public string? Data { get; init; }

    /// <summary>Periodic checkpoints every this many updates (a cancelled run writes one anyway).</summary>
    public int CheckpointEvery { get; init; } = 20;

    /// <summary>Utterances per batch.</summary>
    public int BatchSize { get; init; } = 4;

    internal static string FindDemo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "data", "demo", "train.tsv"))) return Path.Combine(dir.FullName, "data", "demo");
        return Path.Combine("data", "demo");
    }
}
