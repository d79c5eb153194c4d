using System.Text.Json;
using System.Text.Json.Serialization;
using HArnESS.Encoders;
using HArnESS.Modules;

namespace HArnESS.Distillation.Students;

/// <summary>
/// Everything that fixes a <see cref="DistillationStudent"/>'s shape: its encoder (any front-end: CNN, fbank or the
/// convolutional subsampler), the head mode, which teacher layers it predicts and at what width. Teacher layers are
/// hidden-state indices in HF's convention (0 = the input to the teacher's first transformer layer, i = the output of
/// layer i), so DistilHuBERT's 4/8/12 are <c>hidden_states[4]</c>, <c>[8]</c>, <c>[12]</c>. Defaults are DistilHuBERT
/// (<see cref="StudentPresets.DistilHubert"/>). Round-trips through JSON (<see cref="ToJson"/>/<see cref="FromJson"/>).
/// </summary>
public sealed record DistillationStudentConfig
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        AllowOutOfOrderMetadataProperties = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Teacher frames a student may differ by at the same input length before the frame rates count as
    /// different (2: a CNN and a 10 ms fbank stacked by 2 both run at 50 Hz but round their edges differently).</summary>
    public const int FrameTolerance = 2;

    /// <summary>The student's encoder. Default: DistilHuBERT's (<see cref="StudentPresets.DistilHubertEncoder"/>).</summary>
    public SpeechEncoderConfig Encoder { get; init; } = StudentPresets.DistilHubertEncoder;

    /// <summary>Prediction heads (default) or layer to layer.</summary>
    public StudentHeadMode Mode { get; init; } = StudentHeadMode.PredictionHeads;

    /// <summary>The teacher hidden states predicted, one per head or per matched student layer (default 4, 8, 12).</summary>
    public IReadOnlyList<int> TeacherLayers { get; init; } = [4, 8, 12];

    /// <summary><see cref="StudentHeadMode.LayerToLayer"/> only: the student hidden state matched to each teacher layer
    /// (0 = the student's input to its first layer). Null (default) = 1..N, i.e. student layer i → the i-th entry of
    /// <see cref="TeacherLayers"/>.</summary>
    public IReadOnlyList<int>? StudentLayers { get; init; }

    /// <summary>The teacher's width (768 for HuBERT base); checked against the teacher by
    /// <see cref="ValidateAgainst"/>.</summary>
    public int TeacherDim { get; init; } = 768;

    /// <summary>When set, the heads predict a PCA-compacted target of this width k (teacher layers projected on their
    /// top-k principal components by the targets pipeline) instead of <see cref="TeacherDim"/>. Default null.</summary>
    public int? CompactDim { get; init; }

    /// <summary><see cref="StudentHeadMode.PredictionHeads"/> only: the per-head inner width (s3prl's
    /// <c>out_layer_inter_dim</c>); null (default) = the student's width.</summary>
    public int? HeadInnerDim { get; init; }

    /// <summary><see cref="StudentHeadMode.LayerToLayer"/> only: plain linear (default) or low-rank projections.</summary>
    public LayerProjectionKind Projection { get; init; } = LayerProjectionKind.Linear;

    /// <summary><see cref="LayerProjectionKind.LowRank"/> only: the rank r (default 64).</summary>
    public int ProjectionRank { get; init; } = 64;

    /// <summary>When set, the student also owns <c>code_projection</c> = <c>Linear(studentDim → CodeDim)</c> on its last
    /// layer: its own projection into the teacher's code space for the discriminative loss (CodeDim = the teacher
    /// codebook's width, 256 for HuBERT base; see <see cref="DistillationStudent.CheckCodebook"/>). Default null.</summary>
    public int? CodeDim { get; init; }

    /// <summary>Width of every prediction: <see cref="CompactDim"/> when set, else <see cref="TeacherDim"/>.</summary>
    [JsonIgnore]
    public int TargetDim => CompactDim ?? TeacherDim;

    /// <summary>Number of predicted teacher layers.</summary>
    [JsonIgnore]
    public int TargetCount => TeacherLayers?.Count ?? 0;

    /// <summary>The student hidden state behind each prediction: for layer to layer <see cref="StudentLayers"/> (or
    /// 1..N); for prediction heads every head reads the last layer.</summary>
    [JsonIgnore]
    public IReadOnlyList<int> ResolvedStudentLayers =>
        Mode == StudentHeadMode.PredictionHeads
            ? Enumerable.Repeat(Encoder.NumLayers, TargetCount).ToArray()
            : StudentLayers ?? Enumerable.Range(1, TargetCount).ToArray();

    /// <summary>The same student with another front-end (e.g. <see cref="FbankFrontEndConfig"/> or
    /// <see cref="Conv1dSubsamplerConfig"/> instead of the CNN); the transformer and heads are unchanged.</summary>
    public DistillationStudentConfig WithFrontEnd(FrontEndConfig frontEnd)
    {
        ArgumentNullException.ThrowIfNull(frontEnd);
        return this with { Encoder = Encoder with { FrontEnd = frontEnd } };
    }

    /// <summary>Checks every value (the encoder's as <c>Encoder.*</c>).</summary>
    /// <exception cref="HArnessValidationException">Every invalid value, each named by its property.</exception>
    public void Validate()
    {
        var errors = new ValidationErrors();
        Validate(errors);
        errors.ThrowIfAny(nameof(DistillationStudentConfig));
    }

    /// <summary>Adds every invalid value to <paramref name="errors"/>.</summary>
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var encoderOk = false;
        if (Encoder is null) errors.Add(nameof(Encoder), "Encoder must be given.");
        else
        {
            var inner = new ValidationErrors();
            Encoder.Validate(inner);
            errors.AddRange(inner.Errors, nameof(Encoder));
            encoderOk = inner.IsEmpty;
        }
        if (!Enum.IsDefined(Mode)) errors.Add(nameof(Mode), $"Mode must be a StudentHeadMode, got {(int)Mode}.");
        if (!Enum.IsDefined(Projection)) errors.Add(nameof(Projection), $"Projection must be a LayerProjectionKind, got {(int)Projection}.");
        if (TeacherLayers is null || TeacherLayers.Count == 0)
            errors.Add(nameof(TeacherLayers), "TeacherLayers must name at least one teacher hidden state.");
        else
        {
            if (TeacherLayers.Count > EncoderLimits.MaxLayers + 1)
                errors.Add(nameof(TeacherLayers), $"TeacherLayers has {TeacherLayers.Count} entries; at most {EncoderLimits.MaxLayers + 1}.");
            for (var i = 0; i < TeacherLayers.Count; i++)
                if (TeacherLayers[i] < 0 || TeacherLayers[i] > EncoderLimits.MaxLayers)
                    errors.Add($"{nameof(TeacherLayers)}[{i}]", $"TeacherLayers[{i}] = {TeacherLayers[i]} must be a hidden-state index in [0, {EncoderLimits.MaxLayers}].");
            if (Mode == StudentHeadMode.PredictionHeads && TeacherLayers.Distinct().Count() != TeacherLayers.Count)
                errors.Add(nameof(TeacherLayers), $"TeacherLayers [{string.Join(", ", TeacherLayers)}] repeats a layer; each prediction head predicts a different one.");
        }
        InRange(errors, TeacherDim, 1, EncoderLimits.MaxWidth, nameof(TeacherDim));
        if (CompactDim is { } k) InRange(errors, k, 1, EncoderLimits.MaxWidth, nameof(CompactDim));
        if (CodeDim is { } code) InRange(errors, code, 1, EncoderLimits.MaxWidth, nameof(CodeDim));
        if (Mode == StudentHeadMode.PredictionHeads)
        {
            if (StudentLayers is not null)
                errors.Add(nameof(StudentLayers), "StudentLayers is for LayerToLayer; prediction heads all read the student's last layer (leave it null).");
            if (HeadInnerDim is { } inner) InRange(errors, inner, 1, EncoderLimits.MaxWidth, nameof(HeadInnerDim));
            if (encoderOk && TeacherLayers is { Count: > 0 })
            {
                long inner2 = HeadInnerDim ?? Encoder!.HiddenSize;
                if (inner2 * TeacherLayers.Count > EncoderLimits.MaxIntermediateSize)
                    errors.Add(nameof(HeadInnerDim), $"The heads' expanded width {inner2} × {TeacherLayers.Count} exceeds {EncoderLimits.MaxIntermediateSize}.");
            }
        }
        else if (Mode == StudentHeadMode.LayerToLayer)
        {
            if (HeadInnerDim is not null) errors.Add(nameof(HeadInnerDim), "HeadInnerDim is for PredictionHeads; leave it null for LayerToLayer.");
            if (Projection == LayerProjectionKind.LowRank)
                InRange(errors, ProjectionRank, 1, EncoderLimits.MaxWidth, nameof(ProjectionRank));
            if (StudentLayers is { } s && TeacherLayers is not null)
            {
                if (s.Count != TeacherLayers.Count)
                    errors.Add(nameof(StudentLayers), $"StudentLayers has {s.Count} entries but TeacherLayers has {TeacherLayers.Count}; give one student layer per teacher layer.");
                for (var i = 0; i < s.Count; i++)
                    if (s[i] < 0 || (encoderOk && s[i] > Encoder!.NumLayers))
                        errors.Add($"{nameof(StudentLayers)}[{i}]", $"StudentLayers[{i}] = {s[i]} must be a student hidden state in [0, {(encoderOk ? Encoder!.NumLayers : EncoderLimits.MaxLayers)}].");
            }
            else if (encoderOk && TeacherLayers is { Count: > 0 } && TeacherLayers.Count > Encoder!.NumLayers)
                errors.Add(nameof(StudentLayers),
                    $"{TeacherLayers.Count} teacher layers but the student has {Encoder.NumLayers} layers: give StudentLayers (one student hidden state per teacher layer).");
        }
    }

    /// <summary>Checks this student against its teacher before any expensive step and reports every problem at once:
    /// a teacher layer the teacher does not have (<c>TeacherLayers[i]</c>), a teacher width other than
    /// <see cref="TeacherDim"/>, another sample rate, and a frame-rate mismatch (<c>FrameRate</c>: the front-ends'
    /// <see cref="FrontEndConfig.OutputFrames"/> for the same 1 s, 10 s and 30 s inputs differ by more than
    /// <see cref="FrameTolerance"/>, e.g. a 10 ms fbank student without stacking against a 20 ms teacher).</summary>
    /// <param name="teacher">The teacher's config.</param>
    /// <exception cref="HArnessValidationException">This config is invalid, or does not fit the teacher (every problem named).</exception>
    public void ValidateAgainst(SpeechEncoderConfig teacher)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        var errors = new ValidationErrors();
        Validate(errors);
        if (!errors.IsEmpty) errors.ThrowIfAny(nameof(DistillationStudentConfig));
        for (var i = 0; i < TeacherLayers.Count; i++)
            if (TeacherLayers[i] > teacher.NumLayers)
                errors.Add($"{nameof(TeacherLayers)}[{i}]",
                    $"TeacherLayers[{i}] = {TeacherLayers[i]}: the teacher has {teacher.NumLayers} layers (hidden states 0..{teacher.NumLayers}).");
        if (TeacherDim != teacher.HiddenSize)
            errors.Add(nameof(TeacherDim), $"TeacherDim is {TeacherDim} but the teacher is {teacher.HiddenSize} wide.");
        if (CompactDim is { } k && k > teacher.HiddenSize)
            errors.Add(nameof(CompactDim), $"CompactDim {k} exceeds the teacher's width {teacher.HiddenSize}: PCA keeps at most that many components.");
        if (Encoder.SampleRate != teacher.SampleRate)
            errors.Add("SampleRate", $"The student reads {Encoder.SampleRate} Hz audio, the teacher {teacher.SampleRate} Hz.");
        else
        {
            var rows = new List<string>();
            foreach (var seconds in new[] { 1, 10, 30 })
            {
                long samples = (long)seconds * teacher.SampleRate;
                long s = Encoder.FrontEnd.OutputFrames(samples), t = teacher.FrontEnd.OutputFrames(samples);
                if (Math.Abs(s - t) > FrameTolerance) rows.Add($"{seconds} s: student {s} frames, teacher {t}");
            }
            if (rows.Count > 0)
                errors.Add("FrameRate",
                    $"Frame-rate mismatch: the student's {Encoder.FrontEnd.Kind} front-end and the teacher's {teacher.FrontEnd.Kind} front-end give different frame counts for the same input ({string.Join("; ", rows)}); tolerance {FrameTolerance} frames.");
        }
        errors.ThrowIfAny($"Student against teacher ({teacher.ModelType}, {teacher.NumLayers} layers, dim {teacher.HiddenSize})");
    }

    /// <summary>Parameters of the heads alone, the code projection included (analytic; equals the built modules' count).</summary>
    public long CountHeadParameters()
    {
        long d = Encoder.HiddenSize, n = TargetCount, o = TargetDim;
        long code = CodeDim is { } c ? d * c + c : 0;
        return code + CountPredictionParameters(d, n, o);
    }

    private long CountPredictionParameters(long d, long n, long o)
    {
        if (Mode == StudentHeadMode.PredictionHeads)
        {
            long inner = HeadInnerDim ?? d;
            return d * inner * n + inner * n + n * inner * o + n * o;
        }
        return Projection == LayerProjectionKind.Linear
            ? n * (d * o + o)
            : n * (d * (long)ProjectionRank + ProjectionRank * o + o);
    }

    /// <summary>Parameters of the student (encoder + heads, analytic, without building it).</summary>
    /// <param name="includeHeads">False counts the encoder alone (what remains after distillation).</param>
    public long CountParameters(bool includeHeads = true) =>
        EncoderCost.CountParameters(Encoder) + (includeHeads ? CountHeadParameters() : 0);

    /// <summary>Serialises to indented JSON (enums as strings, the encoder as its own section).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads a config written by <see cref="ToJson"/> and validates it.</summary>
    /// <param name="json">The text.</param>
    /// <param name="source">The file, for messages, or null.</param>
    /// <exception cref="HArnessConfigException">The JSON is malformed.</exception>
    /// <exception cref="HArnessValidationException">It describes an invalid student.</exception>
    public static DistillationStudentConfig FromJson(string json, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        var where = source is null ? "Student config JSON" : $"Student config in '{source}'";
        DistillationStudentConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<DistillationStudentConfig>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new HArnessConfigException($"{where} is malformed at {e.Path}: {e.Message}", e.Path, e);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new HArnessConfigException($"{where} cannot be read: {e.Message}", "json", e);
        }
        if (config is null) throw new HArnessConfigException($"{where} is null.", "json");
        var errors = new ValidationErrors();
        config.Validate(errors);
        errors.ThrowIfAny(source is null ? nameof(DistillationStudentConfig) : $"{nameof(DistillationStudentConfig)} from '{source}'");
        return config;
    }

    /// <summary>Value equality, the layer lists compared element by element.</summary>
    public bool Equals(DistillationStudentConfig? other) =>
        other is not null && Equals(Encoder, other.Encoder) && Mode == other.Mode &&
        Same(TeacherLayers, other.TeacherLayers) && Same(StudentLayers, other.StudentLayers) && TeacherDim == other.TeacherDim &&
        CompactDim == other.CompactDim && CodeDim == other.CodeDim && HeadInnerDim == other.HeadInnerDim && Projection == other.Projection &&
        ProjectionRank == other.ProjectionRank;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Encoder, Mode, TeacherDim, CompactDim, TargetCount);

    private static void InRange(ValidationErrors errors, int value, int min, int max, string name)
    {
        if (value < min || value > max) errors.Add(name, $"{name} must be in [{min}, {max}], got {value}.");
    }

    private static bool Same(IReadOnlyList<int>? a, IReadOnlyList<int>? b) =>
        ReferenceEquals(a, b) || (a is not null && b is not null && a.SequenceEqual(b));
}
