namespace HArnESS.Distillation.Initialization;

/// <summary>Maps from student layers to the teacher layers they are copied from (0-based
/// <c>encoder.layers.{i}</c> indices: entry i is the teacher layer for student layer i).</summary>
public static class LayerMaps
{
    /// <summary>The first N teacher layers, <c>[0, 1, …, N−1]</c> (DistilHuBERT's
    /// <c>init_teacher_encoder_layers</c>).</summary>
    /// <param name="studentLayers">N, at least 1.</param>
    /// <returns>The map.</returns>
    public static int[] FirstN(int studentLayers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(studentLayers, 1);
        return Enumerable.Range(0, studentLayers).ToArray();
    }

    /// <summary>Every k-th teacher layer, ending each stride on its last layer: <c>[k−1, 2k−1, …]</c>
    /// (DistilXLSR's layer jumping; k = 3 and 4 student layers give <c>[2, 5, 8, 11]</c>).</summary>
    /// <param name="stride">k, at least 1.</param>
    /// <param name="studentLayers">Number of student layers, at least 1.</param>
    /// <returns>The map.</returns>
    public static int[] EveryKth(int stride, int studentLayers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(studentLayers, 1);
        return Enumerable.Range(1, studentLayers).Select(i => i * stride - 1).ToArray();
    }
}
