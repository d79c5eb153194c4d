using HArnESS.Checkpoints;
using HArnESS.Distillation.Losses;
using HArnESS.Encoders;
using HArnESS.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Students;

/// <summary>
/// A student being distilled: a <see cref="SpeechEncoder"/> (any front-end) plus its distillation heads, either
/// DistilHuBERT's <see cref="PredictionHeads"/> on the last layer or one <see cref="LayerProjections"/> entry per
/// matched student layer. <see cref="Forward"/> returns one prediction <c>[B, T, TargetDim]</c> per configured teacher
/// layer with the frame lengths, ready for <see cref="RegressionLoss"/>. Submodules: <c>encoder</c> (the encoder's
/// own HF-style keys below it) and <c>heads</c>. <see cref="Save"/> writes the encoder as a normal HArnESS
/// checkpoint (<c>SpeechEncoder.Load(dir)</c> loads it alone, without the heads) and the heads beside it.
/// </summary>
public sealed class DistillationStudent : nn.Module
{
    /// <summary>File <see cref="Save"/> writes the student config to.</summary>
    public const string StudentConfigFileName = "student.json";

    /// <summary>File <see cref="Save"/> writes the heads' state to (safetensors, keys as <see cref="Heads"/>' <c>state_dict()</c>).</summary>
    public const string HeadsFileName = "heads.safetensors";

    /// <summary>File <see cref="Save"/> writes <see cref="CodeProjection"/> to, when the student has one.</summary>
    public const string CodeProjectionFileName = "code_projection.safetensors";

#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly SpeechEncoder encoder;
    private readonly nn.Module heads;
    private readonly TorchSharp.Modules.Linear? code_projection;
#pragma warning restore IDE1006

    /// <summary>Builds a student with fresh weights.</summary>
    /// <param name="config">The shape; validated first.</param>
    /// <exception cref="HArnessValidationException">The config is invalid (every problem named); nothing was allocated.</exception>
    public DistillationStudent(DistillationStudentConfig config) : this(config, null)
    {
    }

    /// <summary>Builds a student around an existing encoder (e.g. one initialised from the teacher) and fresh heads.</summary>
    /// <param name="config">The shape; validated first. <paramref name="encoder"/>'s config must equal its <see cref="DistillationStudentConfig.Encoder"/>.</param>
    /// <param name="encoder">The encoder (owned by the student from now on), or null for a fresh one.</param>
    /// <exception cref="HArnessValidationException">The config is invalid.</exception>
    /// <exception cref="ArgumentException">The encoder was built from another config.</exception>
    public DistillationStudent(DistillationStudentConfig config, SpeechEncoder? encoder) : base(nameof(DistillationStudent))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (encoder is not null && !Equals(encoder.Config, config.Encoder))
            throw new ArgumentException("The encoder was built from another config than the student's Encoder.", nameof(encoder));
        Config = config;
        this.encoder = encoder ?? new SpeechEncoder(config.Encoder);
        heads = config.Mode == StudentHeadMode.PredictionHeads
            ? new PredictionHeads(config.Encoder.HiddenSize, config.TargetCount, config.HeadInnerDim ?? config.Encoder.HiddenSize, config.TargetDim)
            : new LayerProjections(config.Encoder.HiddenSize, config.TargetCount, config.TargetDim, config.Projection, config.ProjectionRank);
        // Registered by name: RegisterComponents() would also reflect over the encoder's private fields.
        register_module("encoder", this.encoder);
        register_module("heads", heads);
        if (config.CodeDim is { } codeDim)
        {
            code_projection = nn.Linear(config.Encoder.HiddenSize, codeDim);
            register_module("code_projection", code_projection);
        }
    }

    /// <summary>The config this student was built from.</summary>
    public DistillationStudentConfig Config { get; }

    /// <summary>The student's encoder (what remains after distillation).</summary>
    public SpeechEncoder Encoder => encoder;

    /// <summary>The heads: a <see cref="PredictionHeads"/> or a <see cref="LayerProjections"/>.</summary>
    public nn.Module Heads => heads;

    /// <summary>The student's own projection of its last layer into the teacher's code space
    /// (<see cref="DistillationStudentConfig.CodeDim"/>), for <see cref="DiscriminativeLoss"/>; null when not configured.</summary>
    public nn.Module<Tensor, Tensor>? CodeProjection => code_projection;

    /// <summary>Checks that the student's code projection fits the teacher's codebook before training with the
    /// discriminative loss.</summary>
    /// <param name="codebook">The teacher's code space (<see cref="DistillationTeacher.GetCodebook"/>).</param>
    /// <exception cref="HArnessConfigException">The student has no code projection, or it maps to another width than
    /// the codebook's (option <c>CodeDim</c>).</exception>
    public void CheckCodebook(TeacherCodebook codebook)
    {
        ArgumentNullException.ThrowIfNull(codebook);
        if (Config.CodeDim is not { } d)
            throw new HArnessConfigException(
                $"The discriminative loss needs the student's own projection to the teacher's code space: set CodeDim = {codebook.FinalDim} (the codebook's width).", "CodeDim");
        if (d != codebook.FinalDim)
            throw new HArnessConfigException($"CodeDim is {d} but the teacher's codebook is {codebook.FinalDim} wide.", "CodeDim");
    }

    /// <summary>The teacher hidden states predicted, in output order.</summary>
    public IReadOnlyList<int> TeacherLayers => Config.TeacherLayers;

    /// <summary>Encodes padded waveforms and predicts every configured teacher layer.</summary>
    /// <param name="waveforms"><c>[B, samples]</c> at the encoder's sample rate.</param>
    /// <param name="lengths">Valid samples <c>[B]</c>, or null when all are valid.</param>
    /// <returns>Predictions, frame lengths, valid-frame mask and the encoder output (dispose it).</returns>
    public StudentOutput Forward(Tensor waveforms, Tensor? lengths = null)
    {
        ArgumentNullException.ThrowIfNull(waveforms);
        return Predict(encoder.Forward(waveforms, lengths, StopLayer()));
    }

    /// <summary>As <see cref="Forward"/>, from precomputed front-end inputs (raw log-Mel features <c>[B, frames, bins]</c>
    /// for fbank front-ends; waveforms for the CNN), see <see cref="SpeechEncoder.ForwardFeatures"/>.</summary>
    /// <param name="features">See above.</param>
    /// <param name="featureLengths">Valid input frames (or samples) <c>[B]</c>, or null.</param>
    public StudentOutput ForwardFeatures(Tensor features, Tensor? featureLengths = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        return Predict(encoder.ForwardFeatures(features, featureLengths, StopLayer()));
    }

    private int StopLayer() => Config.Mode == StudentHeadMode.PredictionHeads ? encoder.NumLayers : Config.ResolvedStudentLayers.Max();

    private StudentOutput Predict(EncoderOutput output)
    {
        try
        {
            using var scope = NewDisposeScope();
            IReadOnlyList<Tensor> predictions = heads switch
            {
                PredictionHeads p => p.forward(output.LastHiddenState),
                LayerProjections l => l.forward(Config.ResolvedStudentLayers.Select(i => output.HiddenStates[i]).ToArray()),
                _ => throw new InvalidOperationException("Unknown head module."),
            };
            foreach (var p in predictions) p.MoveToOuterDisposeScope();
            var valid = FrameMasks.FromLengths(output.FrameLengths, output.LastHiddenState.shape[1]).MoveToOuterDisposeScope();
            return new StudentOutput(predictions, Config.TeacherLayers, output, valid);
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    /// <summary>The parameters that shape the student's <c>hidden_states[0]</c>, plus the heads: the front-end, the
    /// feature projection, the positional convolution, the encoder layer norm of a post-LN model, and every head
    /// (stage 1 of Wang et al.'s front-end distillation, <see cref="StudentPresets.FrontEndStage"/>). The transformer
    /// layers (and a pre-LN model's final layer norm) are left out.</summary>
    public IReadOnlyList<TorchSharp.Modules.Parameter> FrontEndParameters()
    {
        var prefixes = new List<string>
        {
            $"encoder.{Config.Encoder.FrontEnd.ModuleName}.", "encoder.feature_projection.", "encoder.encoder.pos_conv_embed.", "heads.", "code_projection.",
        };
        if (!Config.Encoder.LayerNormFirst) prefixes.Add("encoder.encoder.layer_norm.");
        return named_parameters().Where(p => prefixes.Any(x => p.name.StartsWith(x, StringComparison.Ordinal))).Select(p => p.parameter).ToArray();
    }

    /// <summary>Checks the student against its teacher (every problem at once; see
    /// <see cref="DistillationStudentConfig.ValidateAgainst"/>).</summary>
    /// <exception cref="HArnessValidationException">A teacher layer the teacher lacks, a width or frame-rate mismatch.</exception>
    public void ValidateAgainst(SpeechEncoderConfig teacher) => Config.ValidateAgainst(teacher);

    /// <summary>Counts parameters, as <c>sum(p.numel() for p in model.parameters())</c>.</summary>
    /// <param name="includeHeads">False counts the encoder alone.</param>
    public long CountParameters(bool includeHeads = true) =>
        encoder.CountParameters() + (includeHeads ? heads.parameters().Concat(code_projection?.parameters() ?? []).Sum(p => p.numel()) : 0);

    /// <summary>Saves the student in <paramref name="directory"/>: the encoder as a HArnESS checkpoint
    /// (<c>config.json</c> + <c>model.safetensors</c>, loadable alone by <c>SpeechEncoder.Load</c>), the student config
    /// (<see cref="StudentConfigFileName"/>), the heads (<see cref="HeadsFileName"/>) and the code projection when there is
    /// one (<see cref="CodeProjectionFileName"/>). Every file is written atomically.</summary>
    /// <param name="directory">Created if needed; the files are replaced.</param>
    public void Save(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        encoder.Save(directory);
        ModuleState.Save(Path.Combine(directory, HeadsFileName), heads,
            new Dictionary<string, string> { ["producer"] = "HArnESS", ["heads"] = Config.Mode.ToString() });
        if (code_projection is not null)
            ModuleState.Save(Path.Combine(directory, CodeProjectionFileName), code_projection, new Dictionary<string, string> { ["producer"] = "HArnESS" });
        AtomicFile.WriteAllText(Path.Combine(directory, StudentConfigFileName), Config.ToJson());
    }

    /// <summary>Loads a student saved by <see cref="Save"/> (strict: every tensor must fit), in eval mode.</summary>
    /// <param name="directory">The folder.</param>
    /// <param name="device">Device to move it to; null = CPU.</param>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="HArnessConfigException">The student config is malformed or invalid.</exception>
    /// <exception cref="HArnessCheckpointException">The weights do not fit the config (keys named).</exception>
    public static DistillationStudent Load(string directory, Device? device = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var configPath = Path.Combine(directory, StudentConfigFileName);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"Student folder '{directory}' has no {StudentConfigFileName}.", configPath);
        var headsPath = Path.Combine(directory, HeadsFileName);
        if (!File.Exists(headsPath)) throw new FileNotFoundException($"Student folder '{directory}' has no {HeadsFileName}.", headsPath);
        var config = DistillationStudentConfig.FromJson(File.ReadAllText(configPath), configPath);
        var enc = SpeechEncoder.Load(directory, new CheckpointLoadOptions { Config = config.Encoder });
        DistillationStudent? student = null;
        try
        {
            student = new DistillationStudent(config, enc);
            ModuleState.Load(headsPath, student.heads);
            if (student.code_projection is not null)
            {
                var codePath = Path.Combine(directory, CodeProjectionFileName);
                if (!File.Exists(codePath)) throw new FileNotFoundException($"Student folder '{directory}' has no {CodeProjectionFileName} (its config sets CodeDim).", codePath);
                ModuleState.Load(codePath, student.code_projection);
            }
            if (device is not null) student.to(device);
            student.eval();
            return student;
        }
        catch
        {
            if (student is not null) student.Dispose();
            else enc.Dispose();
            throw;
        }
    }
}
