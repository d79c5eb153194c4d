using HArnESS.Serialization;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// Assigns every frame of a dumped corpus to its nearest centre and writes a <c>.km</c> file aligned with the
/// manifest: one line per utterance, space-separated unit ids per frame (fairseq <c>dump_km_label.py</c>). Frames of
/// several utterances are assigned together in batches on the codebook's device (GPU when it is there).
/// </summary>
public static class UnitLabelWriter
{
    /// <summary>Frames assigned per batch.</summary>
    public const int BatchFrames = 32_768;

    /// <summary>Writes the labels.</summary>
    /// <param name="codebook">Centres (in the space after <paramref name="pca"/>, when given).</param>
    /// <param name="features">All shards of the dump, in manifest order (its fraction is ignored: every utterance is labelled).</param>
    /// <param name="path">The <c>.km</c> file to write (through a temporary name).</param>
    /// <param name="pca">Projection applied before assignment (PCA-compacted targets), or null.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    /// <returns>Lines written (= utterances).</returns>
    public static int Write(KMeansCodebook codebook, FeatureShardSource features, string path, Pca? pca = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(codebook);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var dim = pca?.ComponentCount ?? features.Dimension;
        if (pca is not null && pca.InputDim != features.Dimension)
            throw new HArnessDataException($"The PCA expects dimension {pca.InputDim} but the features have {features.Dimension}.");
        if (dim != codebook.Dimension)
            throw new HArnessDataException($"The codebook has dimension {codebook.Dimension} but the features{(pca is null ? "" : " after PCA")} have {dim}.");
        var lines = 0;
        AtomicFile.Write(path, stream =>
        {
            using (var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" })
            {
                var pending = new List<Tensor>();
                long pendingFrames = 0;
                void Flush()
                {
                    if (pending.Count == 0) return;
                    using var scope = NewDisposeScope();
                    var all = pending.Count == 1 ? pending[0] : torch.cat(pending, 0);
                    if (pca is not null) all = pca.Transform(all);
                    var labels = codebook.Predict(all).to(ScalarType.Int32, torch.CPU).data<int>().ToArray();
                    var at = 0;
                    foreach (var p in pending)
                    {
                        var n = (int)p.shape[0];
                        writer.WriteLine(string.Join(' ', labels.AsSpan(at, n).ToArray()));
                        at += n;
                        lines++;
                    }
                    foreach (var p in pending) p.Dispose();
                    pending.Clear();
                    pendingFrames = 0;
                }
                foreach (var (_, utterance) in features.ReadUtterances(cancellationToken))
                {
                    pending.Add(utterance);
                    pendingFrames += utterance.shape[0];
                    if (pendingFrames >= BatchFrames) Flush();
                }
                Flush();
            }
        });
        return lines;
    }
}
