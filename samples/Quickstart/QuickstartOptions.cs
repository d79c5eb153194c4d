using System.Globalization;
using HArnESS.Runtime;

namespace HArnESS.Samples.Quickstart;

/// <summary>The quickstart's command line, parsed once. Every option has a default that runs the whole recipe on the
/// bundled demo corpus (<c>data/demo</c>) into <c>runs/quickstart</c>.</summary>
internal sealed record QuickstartOptions
{
    public const string Usage = """
        usage: dotnet run --project samples/Quickstart -c Release -- [options]
          --corpus DIR     corpus folder laid out as data/demo (train/valid/test.tsv + .wrd/.emo/.dia/.spk, kws_*.tsv + .kws,
                           sv_trials.txt); default: data/demo above the current folder
          --train TSV      manifest for pre-training and distillation (default DIR/train.tsv)
          --valid TSV      held-out manifest for masked accuracy and layer cosine (default DIR/valid.tsv)
          --teacher PATH   use this checkpoint as the teacher (HF folder, .safetensors, .bin, fairseq .pt, a HArnESS
                           model folder) and skip pre-training
          --device D       auto (default: CUDA when present), cpu, cuda, cuda:N
          --steps N        updates per pre-training iteration and per student (default 400; --smoke: 4)
          --out DIR        output folder (default runs/quickstart)
          --smoke          the same stages with tiny step counts (a check that everything runs)
          --runtime-only   start the native runtime, print it and exit
        """;

    /// <summary>Updates per training run of the full recipe (<c>--steps</c> default).</summary>
    public const int DefaultSteps = 400;

    /// <summary>Updates per training run of <c>--smoke</c>.</summary>
    public const int SmokeSteps = 4;

    public required string Corpus { get; init; }
    public required string TrainManifest { get; init; }
    public required string ValidManifest { get; init; }
    public string? Teacher { get; init; }
    public ComputeDevice? Device { get; init; }
    public required int Steps { get; init; }
    public required string Output { get; init; }
    public bool Smoke { get; init; }
    public bool RuntimeOnly { get; init; }

    /// <summary>Passes over each downstream training set (SER, DID, KWS, SV).</summary>
    public int DownstreamEpochs => Smoke ? 1 : 12;

    /// <summary>Passes over the ASR training set.</summary>
    public int AsrEpochs => Smoke ? 1 : 40;

    /// <summary>Test utterances timed for the real-time factor (batch 1).</summary>
    public int TimedUtterances => Smoke ? 3 : 22;

    /// <summary>Parses the arguments; null (after printing why) when they are wrong or --help was asked.</summary>
    public static QuickstartOptions? Parse(string[] args, TextWriter error)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var flags = new HashSet<string>(StringComparer.Ordinal);
        string[] valued = ["--corpus", "--train", "--valid", "--teacher", "--device", "--steps", "--out"];
        string[] switches = ["--smoke", "--runtime-only"];
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a is "--help" or "-h") { error.WriteLine(Usage); return null; }
            if (switches.Contains(a)) { flags.Add(a); continue; }
            if (!valued.Contains(a)) { error.WriteLine($"error: unknown option '{a}'.\n{Usage}"); return null; }
            if (i + 1 >= args.Length) { error.WriteLine($"error: {a} needs a value.\n{Usage}"); return null; }
            values[a] = args[++i];
        }
        var smoke = flags.Contains("--smoke");
        var steps = smoke ? SmokeSteps : DefaultSteps;
        if (values.TryGetValue("--steps", out var s) && (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out steps) || steps < 1))
        {
            error.WriteLine($"error: --steps must be a positive integer, got '{s}'.");
            return null;
        }
        ComputeDevice? device = null;
        if (values.TryGetValue("--device", out var d))
        {
            try { device = ComputeDevice.Parse(d); }
            catch (Exception e) when (e is ArgumentException or FormatException or HArnessException)
            {
                error.WriteLine($"error: --device '{d}': {e.Message}");
                return null;
            }
        }
        if (flags.Contains("--runtime-only"))
            return new QuickstartOptions { Corpus = "", TrainManifest = "", ValidManifest = "", Steps = steps, Output = "", Device = device, RuntimeOnly = true };

        string corpus;
        try { corpus = Path.GetFullPath(values.GetValueOrDefault("--corpus") ?? FindDemoCorpus()); }
        catch (DirectoryNotFoundException e) { error.WriteLine($"error: {e.Message}"); return null; }
        var options = new QuickstartOptions
        {
            Corpus = corpus,
            TrainManifest = Path.GetFullPath(values.GetValueOrDefault("--train") ?? Path.Combine(corpus, "train.tsv")),
            ValidManifest = Path.GetFullPath(values.GetValueOrDefault("--valid") ?? Path.Combine(corpus, "valid.tsv")),
            Teacher = values.TryGetValue("--teacher", out var t) ? Path.GetFullPath(t) : null,
            Device = device,
            Steps = steps,
            Output = Path.GetFullPath(values.GetValueOrDefault("--out") ?? Path.Combine("runs", "quickstart")),
            Smoke = smoke,
        };
        var missing = new[] { options.TrainManifest, options.ValidManifest, Path.Combine(corpus, "test.tsv") }.Where(p => !File.Exists(p)).ToArray();
        if (options.Teacher is { } teacher && !File.Exists(teacher) && !Directory.Exists(teacher)) missing = [.. missing, teacher];
        if (missing.Length > 0)
        {
            error.WriteLine($"error: not found: {string.Join(", ", missing)}");
            return null;
        }
        return options;
    }

    private static string FindDemoCorpus()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "data", "demo", "train.tsv"))) return Path.Combine(dir.FullName, "data", "demo");
        throw new DirectoryNotFoundException("data/demo/train.tsv was not found above the current folder; pass --corpus DIR.");
    }
}
