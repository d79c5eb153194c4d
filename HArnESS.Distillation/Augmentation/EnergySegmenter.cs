namespace HArnESS.Distillation.Augmentation;

/// <summary>Unsupervised segmentation of a waveform for segment shuffling when no alignment exists. Short-time
/// energy <c>E_f = mean(x²)</c> is taken over windows of <see cref="SegmentShuffleOptions.EnergyWindowSeconds"/>
/// every <see cref="SegmentShuffleOptions.EnergyHopSeconds"/>. From the start, while more than
/// <see cref="SegmentShuffleOptions.MaxSegmentSeconds"/> remain, the next cut is the centre of the quietest frame
/// (the local energy minimum; the earliest on ties) whose centre lies between MinSegmentSeconds and
/// MaxSegmentSeconds after the previous cut and at least MinSegmentSeconds before the end. So every segment lasts
/// between the minimum and the maximum (audio shorter than the maximum is one segment) and cuts fall in pauses or
/// between syllables where the audio is quiet.</summary>
public static class EnergySegmenter
{
    /// <summary>Segments a waveform.</summary>
    /// <param name="audio">The samples.</param>
    /// <param name="options">Lengths and energy window; <c>null</c> = defaults.</param>
    /// <returns>Segments tiling <c>[0, audio.Length)</c> in order (none for empty audio).</returns>
    /// <exception cref="HArnessValidationException">An option is invalid.</exception>
    public static IReadOnlyList<SampleSegment> Segment(ReadOnlySpan<float> audio, SegmentShuffleOptions? options = null)
    {
        var o = options ?? new SegmentShuffleOptions();
        o.Validate();
        var n = audio.Length;
        if (n == 0) return [];
        var minLen = Math.Max(1, o.Samples(o.MinSegmentSeconds));
        var maxLen = Math.Max(2 * minLen, o.Samples(o.MaxSegmentSeconds));
        var win = Math.Max(1, o.Samples(o.EnergyWindowSeconds));
        var hop = Math.Max(1, o.Samples(o.EnergyHopSeconds));
        var frames = (n + hop - 1) / hop;
        var energy = new double[frames];
        var centre = new int[frames];
        for (var f = 0; f < frames; f++)
        {
            var s = f * hop;
            var e = Math.Min(n, s + win);
            double acc = 0;
            for (var i = s; i < e; i++) acc += (double)audio[i] * audio[i];
            energy[f] = acc / Math.Max(1, e - s);
            centre[f] = Math.Min(n - 1, s + (e - s) / 2);
        }
        var segments = new List<SampleSegment>();
        var pos = 0;
        while (n - pos > maxLen)
        {
            var lo = pos + minLen;
            var hi = Math.Min(pos + maxLen, n - minLen);
            var best = -1;
            for (var f = 0; f < frames; f++)
            {
                if (centre[f] < lo || centre[f] > hi) continue;
                if (best < 0 || energy[f] < energy[best]) best = f;
            }
            var cut = best >= 0 ? centre[best] : Math.Min(hi, pos + (minLen + maxLen) / 2);
            segments.Add(new SampleSegment(pos, cut - pos));
            pos = cut;
        }
        segments.Add(new SampleSegment(pos, n - pos));
        return segments;
    }
}
