using static TorchSharp.torch;

namespace HArnESS.Distillation.Initialization;

/// <summary>Initialises a student from its teacher as pure functions over state dicts with HArnESS encoders'
/// HF-style keys (<c>feature_extractor.*</c>, <c>feature_projection.*</c>, <c>encoder.pos_conv_embed.*</c>,
/// <c>encoder.layer_norm.*</c>, <c>encoder.layers.{i}.*</c>): the front-end, projection and positional convolution
/// copied, student layers copied from teacher layers by a layer map (<see cref="LayerMaps"/>). Neither input is
/// changed; copied tensors are clones.</summary>
public static class TeacherInitialization
{
    private static readonly (FrontEndParts Part, string Prefix)[] Prefixes =
    [
        (FrontEndParts.FeatureExtractor, "feature_extractor."),
        (FrontEndParts.FeatureProjection, "feature_projection."),
        (FrontEndParts.PositionalConv, "encoder.pos_conv_embed."),
        (FrontEndParts.EncoderLayerNorm, "encoder.layer_norm."),
        (FrontEndParts.MaskEmbedding, "masked_spec_embed"),
    ];

    /// <summary>Number of transformer layers in a state dict (one more than the largest <c>encoder.layers.{i}</c>).</summary>
    /// <param name="state">The state dict.</param>
    /// <returns>The count (0 when there are none).</returns>
    public static int CountLayers(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return StateKeys.CountLayers(state);
    }

    /// <summary>Copies the chosen front-end parts: every student key under a chosen prefix takes the teacher's
    /// tensor of the same key. A part the student does not have (an Fbank student has no <c>feature_extractor</c>)
    /// is skipped.</summary>
    /// <param name="teacher">The teacher's state dict.</param>
    /// <param name="student">The student's state dict.</param>
    /// <param name="parts">What to copy (default all).</param>
    /// <returns>The student's new state.</returns>
    /// <exception cref="HArnessCheckpointException">The teacher lacks a key the student has under a copied prefix, or
    /// the shapes differ (the message names the key and both shapes).</exception>
    public static InitializedState CopyFrontEnd(IReadOnlyDictionary<string, Tensor> teacher, IReadOnlyDictionary<string, Tensor> student,
        FrontEndParts parts = FrontEndParts.All)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(student);
        var result = new Dictionary<string, Tensor>(student, StringComparer.Ordinal);
        var copied = new List<string>();
        foreach (var key in student.Keys)
        {
            var part = Prefixes.FirstOrDefault(p => key.StartsWith(p.Prefix, StringComparison.Ordinal)).Part;
            if (part == FrontEndParts.None || !parts.HasFlag(part)) continue;
            result[key] = Take(teacher, key, key, student[key]);
            copied.Add(key);
        }
        return new InitializedState(result, copied, teacher.Keys.Where(k => !copied.Contains(k)).ToArray());
    }

    /// <summary>Copies student layer i from teacher layer <c>layerMap[i]</c>, key by key
    /// (<c>encoder.layers.{map[i]}.x</c> → <c>encoder.layers.{i}.x</c>).</summary>
    /// <param name="teacher">The teacher's state dict.</param>
    /// <param name="student">The student's state dict.</param>
    /// <param name="layerMap">One 0-based teacher layer per student layer, e.g. <see cref="LayerMaps.FirstN"/> or
    /// <c>[2, 5, 8, 11]</c>; a teacher layer may be used twice.</param>
    /// <returns>The student's new state.</returns>
    /// <exception cref="ArgumentException">The map's length is not the student's layer count.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A mapped teacher layer does not exist (the message names the
    /// entry and the teacher's range).</exception>
    /// <exception cref="HArnessCheckpointException">A student layer key is missing from the teacher layer or
    /// mis-shaped (the message names both keys and shapes).</exception>
    public static InitializedState CopyLayers(IReadOnlyDictionary<string, Tensor> teacher, IReadOnlyDictionary<string, Tensor> student,
        IReadOnlyList<int> layerMap)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(layerMap);
        CheckMap(layerMap, StateKeys.CountLayers(teacher), StateKeys.CountLayers(student));
        var result = new Dictionary<string, Tensor>(student, StringComparer.Ordinal);
        var copied = new List<string>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in student.Keys)
        {
            var m = StateKeys.LayerKey().Match(key);
            if (!m.Success) continue;
            var i = int.Parse(m.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture);
            var teacherKey = $"{StateKeys.LayerPrefix}{layerMap[i]}.{m.Groups[2].Value}";
            result[key] = Take(teacher, teacherKey, key, student[key]);
            copied.Add(key);
            used.Add(teacherKey);
        }
        return new InitializedState(result, copied, teacher.Keys.Where(k => !used.Contains(k)).ToArray());
    }

    /// <summary>Both steps: <see cref="CopyFrontEnd"/> then <see cref="CopyLayers"/>.</summary>
    /// <param name="teacher">The teacher's state dict.</param>
    /// <param name="student">The student's state dict.</param>
    /// <param name="layerMap">One 0-based teacher layer per student layer.</param>
    /// <param name="parts">Front-end parts to copy (default all).</param>
    /// <returns>The student's new state; <see cref="InitializedState.FromTeacher"/> lists both steps' keys.</returns>
    /// <exception cref="ArgumentException">The map's length is not the student's layer count.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A mapped teacher layer does not exist.</exception>
    /// <exception cref="HArnessCheckpointException">A key is missing from the teacher or mis-shaped.</exception>
    public static InitializedState FromTeacher(IReadOnlyDictionary<string, Tensor> teacher, IReadOnlyDictionary<string, Tensor> student,
        IReadOnlyList<int> layerMap, FrontEndParts parts = FrontEndParts.All)
    {
        var front = CopyFrontEnd(teacher, student, parts);
        var layers = CopyLayers(teacher, front.State, layerMap);
        var from = front.FromTeacher.Concat(layers.FromTeacher).ToArray();
        var usedTeacher = new HashSet<string>(teacher.Keys.Except(front.Skipped).Concat(teacher.Keys.Except(layers.Skipped)), StringComparer.Ordinal);
        return new InitializedState(layers.State, from, teacher.Keys.Where(k => !usedTeacher.Contains(k)).ToArray());
    }

    internal static void CheckMap(IReadOnlyList<int> layerMap, int teacherLayers, int studentLayers)
    {
        if (layerMap.Count != studentLayers)
            throw new ArgumentException(
                $"The layer map has {layerMap.Count} entries but the student has {studentLayers} layers: give one teacher layer per student layer.",
                nameof(layerMap));
        for (var i = 0; i < layerMap.Count; i++)
            if (layerMap[i] < 0 || layerMap[i] >= teacherLayers)
                throw new ArgumentOutOfRangeException(nameof(layerMap),
                    $"layerMap[{i}] = {layerMap[i]}, but the teacher has layers 0..{teacherLayers - 1} ({teacherLayers} layers; indices are 0-based).");
    }

    private static Tensor Take(IReadOnlyDictionary<string, Tensor> teacher, string teacherKey, string studentKey, Tensor studentValue)
    {
        if (!teacher.TryGetValue(teacherKey, out var t))
            throw new HArnessCheckpointException(
                $"The teacher has no '{teacherKey}' to initialise the student's '{studentKey}' {StateKeys.Shape(studentValue)} from.");
        if (!t.shape.SequenceEqual(studentValue.shape))
            throw new HArnessCheckpointException(
                $"Shape mismatch: the teacher's '{teacherKey}' is {StateKeys.Shape(t)} but the student's '{studentKey}' is {StateKeys.Shape(studentValue)}.");
        return t.detach().to(studentValue.dtype, studentValue.device).clone();
    }
}
