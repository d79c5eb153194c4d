using System.Globalization;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// Mini-batch k-means on the TorchSharp device with sklearn 1.2 <c>MiniBatchKMeans</c> semantics: greedy k-means++
/// (2 + ln K local trials) on <c>init_size</c> sampled frames, best of <c>n_init</c> by inertia on a validation
/// sample, per-centre counts as learning rates (<c>c ← (c·n_c + Σx) / (n_c + m)</c>), early stopping on the EWA of the
/// mean batch inertia (<c>max_no_improvement</c>) or on the centre change (<c>tol</c>), low-count reassignment
/// (<c>reassignment_ratio</c>), then optional full-batch Lloyd refinement. Every draw comes from one seeded generator,
/// so a fit repeats exactly.
/// </summary>
/// <remarks>
/// An in-memory <see cref="Tensor"/> is sampled as sklearn does (batches drawn with replacement). An
/// <see cref="IFeatureSource"/> is streamed: init/validation frames are gathered in one pass and mini-batches come from
/// a shuffle buffer refilled chunk by chunk, so memory is bounded by the buffer, not by the corpus.
/// </remarks>
public sealed class MiniBatchKMeans
{
    private const long GatherBudgetBytes = 1L << 30;

    /// <summary>Creates the estimator.</summary>
    /// <param name="options">Settings (validated here).</param>
    /// <param name="device">Where the fit runs; null = <see cref="Runtime.HArnessRuntime.Device"/>.</param>
    public MiniBatchKMeans(KMeansOptions options, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Device = device ?? Runtime.HArnessRuntime.Device;
        _log = options.LoggerFactory.CreateLogger(typeof(MiniBatchKMeans).FullName!);
    }

    private readonly ILogger _log;

    /// <summary>The settings.</summary>
    public KMeansOptions Options { get; }

    /// <summary>The device the fit runs on.</summary>
    public Device Device { get; }

    /// <summary>Fits an in-memory feature matrix.</summary>
    /// <param name="features">float <c>[rows, D]</c> (copied to the device as float32).</param>
    /// <param name="progress">Optional progress reports.</param>
    /// <param name="cancellationToken">Stops the fit between steps.</param>
    /// <exception cref="HArnessDataException">K exceeds the number of frames, or the features hold NaN/Inf.</exception>
    public KMeansFit Fit(Tensor features, IProgress<KMeansProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() != 2) throw new HArnessDataException($"Expected features [rows, dim], got [{string.Join(", ", features.shape)}].");
        if (FeatureChecks.FirstNonFiniteRow(features) is var bad and >= 0)
        {
            _log.LogWarning("k-means refused: feature row {Row} of {Rows} holds NaN or infinite values", bad, features.shape[0]);
            throw new HArnessDataException($"features: row {bad} holds NaN or infinite values.");
        }
        using var x = features.detach().to(ScalarType.Float32, Device).contiguous();
        return Run(new InMemoryData(x), progress, cancellationToken);
    }

    /// <summary>Fits a streamed source (see remarks on the class).</summary>
    /// <exception cref="HArnessDataException">K exceeds the number of frames, or a chunk holds NaN/Inf.</exception>
    public KMeansFit Fit(IFeatureSource source, IProgress<KMeansProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        return Run(new StreamData(source, Device, cancellationToken), progress, cancellationToken);
    }


    private KMeansFit Run(IData data, IProgress<KMeansProgress>? progress, CancellationToken ct)
    {
        var o = Options;
        var n = data.Rows;
        var k = o.Clusters;
        if (n < 1)
        {
            _log.LogWarning("k-means refused: no frames to fit");
            throw new HArnessDataException("k-means got no frames to fit.");
        }
        if (k > n)
        {
            _log.LogWarning("k-means refused: K = {Clusters} clusters is larger than the {Rows} frames to fit", k, n);
            throw new HArnessDataException($"K = {k} clusters is larger than the number of frames ({n}); K must not exceed the frames to fit.");
        }
        var batch = (int)Math.Min(o.BatchSize, n);
        long initSize = o.InitSize ?? 3L * batch;
        if (initSize < k) initSize = 3L * k;
        initSize = Math.Min(initSize, n);

        var rng = new Random(o.Seed);
        var sets = new List<long[]?> { Draw(rng, n, initSize) };
        for (var i = 0; i < o.NInit; i++) sets.Add(initSize < n ? Draw(rng, n, initSize) : null);
        var gathered = data.Gather(sets);
        _log.LogInformation("k-means: fitting K = {Clusters} on {Rows} frames x {Dimension} dims ({Data}), batch {Batch}, {Inits} k-means++ inits on {InitSize} frames, seed {Seed}",
            k, n, gathered[0].shape[1], data is InMemoryData ? "in memory" : "streamed", batch, o.NInit, initSize, o.Seed);
        Tensor? centers = null;
        Tensor? counts = null;
        try
        {
            var valid = gathered[0];
            var trials = o.LocalTrials ?? 2 + (int)Math.Log(k);
            var bestInit = double.PositiveInfinity;
            for (var i = 0; i < o.NInit; i++)
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var c = KMeansPlusPlus(gathered[i + 1], k, trials, rng);
                var inertia = ExactInertia(valid, c);
                if (inertia < bestInit)
                {
                    bestInit = inertia;
                    centers?.Dispose();
                    centers = c.MoveToOuterDisposeScope();
                }
                progress?.Report(new KMeansProgress(KMeansPhase.Init, i + 1, o.NInit, bestInit / valid.shape[0], valid.shape[0]));
                _log.LogDebug("k-means: init {Init}/{Inits}: inertia {Inertia:G6} per validation frame (best {Best:G6}, {ValidationFrames} frames)",
                    i + 1, o.NInit, inertia / valid.shape[0], bestInit / valid.shape[0], valid.shape[0]);
            }
            var tol = o.Tolerance > 0 ? o.Tolerance * data.MeanVariance(valid) : 0.0;
            foreach (var g in gathered) g.Dispose();
            gathered.Clear();

            counts = torch.zeros(k, ScalarType.Float64, Device);
            double? ewa = null, ewaMin = null;
            var noImprovement = 0;
            long sinceReassign = 0;
            var nSteps = (int)Math.Min(int.MaxValue, (long)o.MaxIter * n / batch);
            var steps = 0;
            var stopped = false;
            double lastBatch = 0;
            using var batches = data.Batches(batch, rng, o.ShuffleBufferRows ?? 8L * batch).GetEnumerator();
            for (var step = 0; step < nSteps; step++)
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                if (!batches.MoveNext()) throw new HArnessDataException("The feature source yielded no frames on a later pass.");
                using var xb = batches.Current;
                var reassign = false;
                if (o.ReassignmentRatio > 0)
                {
                    sinceReassign += batch;
                    if (counts.eq(Scalars.Of(0)).any().item<bool>() || sinceReassign >= 10L * k)
                    {
                        sinceReassign = 0;
                        reassign = true;
                    }
                }
                var (next, batchInertia) = MiniBatchStep(xb, centers!, counts, reassign, rng);
                var diff = tol > 0 ? (next - centers!).pow(Scalars.Of(2L)).sum(ScalarType.Float64).item<double>() : 0.0;
                centers!.Dispose();
                centers = next.MoveToOuterDisposeScope();
                steps = step + 1;
                lastBatch = batchInertia / batch;
                // sklearn _mini_batch_convergence: skip step 1 (inertia of the init), EWA, tol, no-improvement.
                if (step == 0) continue;
                var alpha = Math.Min(batch * 2.0 / (n + 1), 1.0);
                ewa = ewa is null ? lastBatch : ewa * (1 - alpha) + lastBatch * alpha;
                if (step % 50 == 0 || step == nSteps - 1)
                {
                    progress?.Report(new KMeansProgress(KMeansPhase.MiniBatch, steps, nSteps, ewa, batch));
                    _log.LogDebug("k-means: mini-batch step {Step}/{Steps}: smoothed inertia {Inertia:G6} per frame ({Batch}-frame batches)", steps, nSteps, ewa, batch);
                }
                if (tol > 0 && diff <= tol)
                {
                    stopped = true;
                    _log.LogDebug("k-means: converged at step {Step}: centre change {Change:G4} <= tolerance {Tolerance:G4}", steps, diff, tol);
                    break;
                }
                if (ewaMin is null || ewa < ewaMin) { noImprovement = 0; ewaMin = ewa; }
                else noImprovement++;
                if (o.MaxNoImprovement is { } mni && noImprovement >= mni)
                {
                    stopped = true;
                    _log.LogDebug("k-means: stopped at step {Step}: no improvement of the smoothed inertia in {Steps} steps", steps, mni);
                    break;
                }
            }

            var lloyd = 0;
            for (; lloyd < o.LloydIterations; lloyd++)
            {
                ct.ThrowIfCancellationRequested();
                var (refined, shift, passInertia) = LloydPass(data, centers!, ct);
                centers!.Dispose();
                centers = refined;
                progress?.Report(new KMeansProgress(KMeansPhase.Lloyd, lloyd + 1, o.LloydIterations, passInertia / n, n));
                _log.LogDebug("k-means: Lloyd iteration {Iteration}/{Iterations}: inertia {Inertia:G6} per frame, largest centre shift {Shift:G4}",
                    lloyd + 1, o.LloydIterations, passInertia / n, shift);
                if (shift <= o.LloydTolerance) { lloyd++; break; }
            }

            var codebook = new KMeansCodebook(centers!, Device);
            double total;
            if (o.ComputeInertia)
            {
                total = 0;
                foreach (var chunk in data.Pass(ct))
                {
                    using var owned = chunk;
                    var (labels, inertia) = codebook.Assign(chunk, exactInertia: true);
                    labels.Dispose();
                    total += inertia;
                }
                progress?.Report(new KMeansProgress(KMeansPhase.Inertia, 1, 1, total / n, n));
            }
            else
            {
                total = (ewa ?? lastBatch) * n;
            }
            _log.LogInformation("k-means: fitted K = {Clusters} in {Steps} mini-batch steps{Stopped} and {Lloyd} Lloyd iterations: inertia {Inertia:G6} per frame over {Rows} frames ({How})",
                k, steps, stopped ? " (stopped early)" : "", lloyd, total / n, n, o.ComputeInertia ? "exact" : "estimated");
            return new KMeansFit(codebook, total, n, steps, stopped, bestInit, lloyd);
        }
        finally
        {
            foreach (var g in gathered) g.Dispose();
            centers?.Dispose();
            counts?.Dispose();
        }
    }

    /// <summary>sklearn <c>_mini_batch_step</c>: assign, count-weighted centre update, optional reassignment.</summary>
    private (Tensor Centers, double Inertia) MiniBatchStep(Tensor xb, Tensor centers, Tensor counts, bool reassign, Random rng)
    {
        using var scope = NewDisposeScope();
        var k = centers.shape[0];
        var (labels, minDist) = KMeansCodebook.Nearest(xb, centers, centers.pow(Scalars.Of(2L)).sum(1));
        var inertia = minDist.sum(ScalarType.Float64).item<double>();
        var x64 = xb.to(ScalarType.Float64);
        var batchCounts = torch.bincount(labels, minlength: k).to(ScalarType.Float64);
        var sums = torch.zeros(k, xb.shape[1], ScalarType.Float64, xb.device).index_add_(0, labels, x64, Scalars.Of(1.0));
        var newCounts = counts.add(batchCounts, Scalars.One);
        var c64 = centers.to(ScalarType.Float64);
        var updated = (c64 * counts.unsqueeze(1)).add(sums, Scalars.One) / newCounts.clamp_min(Scalars.Of(1)).unsqueeze(1);
        var next = torch.where(batchCounts.gt(Scalars.Of(0)).unsqueeze(1), updated, c64).to(ScalarType.Float32);
        counts.copy_(newCounts);
        if (reassign && Options.ReassignmentRatio > 0) Reassign(xb, next, counts, rng);
        return (next.MoveToOuterDisposeScope(), inertia);
    }

    private void Reassign(Tensor xb, Tensor centers, Tensor counts, Random rng)
    {
        var w = counts.cpu().data<double>().ToArray();
        var max = w.Max();
        var move = w.Select(v => v < Options.ReassignmentRatio * max).ToArray();
        var half = (int)(0.5 * xb.shape[0]);
        if (move.Count(m => m) > 0.5 * xb.shape[0])
        {
            var order = Enumerable.Range(0, w.Length).OrderBy(i => w[i]).ToArray();
            for (var i = half; i < order.Length; i++) move[order[i]] = false;
        }
        var targets = Enumerable.Range(0, w.Length).Where(i => move[i]).Select(i => (long)i).ToArray();
        if (targets.Length == 0) return;
        _log.LogDebug("k-means: {Moved} of {Clusters} centres below {Ratio} of the largest count moved to random batch frames", targets.Length, w.Length, Options.ReassignmentRatio);
        var keep = Enumerable.Range(0, w.Length).Where(i => !move[i]).Select(i => w[i]).DefaultIfEmpty(0).Min();
        var rows = Choose(rng, xb.shape[0], targets.Length);
        using var scope = NewDisposeScope();
        var tIdx = torch.tensor(targets, device: centers.device);
        centers.index_copy_(0, tIdx, xb.index_select(0, torch.tensor(rows, device: xb.device)));
        using var keepS = keep.ToScalar();
        counts.index_fill_(0, tIdx, keepS);
    }

    /// <summary>One full pass of Lloyd: mean of the frames assigned to each centre (empty clusters keep theirs).</summary>
    private static (Tensor Centers, double MaxShift, double Inertia) LloydPass(IData data, Tensor centers, CancellationToken ct)
    {
        var k = centers.shape[0];
        using var sums = torch.zeros(k, centers.shape[1], ScalarType.Float64, centers.device);
        using var counts = torch.zeros(k, ScalarType.Float64, centers.device);
        using var norms = centers.pow(Scalars.Of(2L)).sum(1);
        double inertia = 0;
        foreach (var chunk in data.Pass(ct))
        {
            using var owned = chunk;
            using var scope = NewDisposeScope();
            var (labels, minDist) = KMeansCodebook.Nearest(chunk, centers, norms);
            inertia += minDist.sum(ScalarType.Float64).item<double>();
            sums.index_add_(0, labels, chunk.to(ScalarType.Float64), Scalars.Of(1.0));
            counts.add_(torch.bincount(labels, minlength: k).to(ScalarType.Float64), Scalars.One);
        }
        using var outer = NewDisposeScope();
        var c64 = centers.to(ScalarType.Float64);
        var next = torch.where(counts.gt(Scalars.Of(0)).unsqueeze(1), sums / counts.clamp_min(Scalars.Of(1)).unsqueeze(1), c64);
        var shift = (next - c64).pow(Scalars.Of(2L)).sum(1).max().item<double>();
        return (next.to(ScalarType.Float32).MoveToOuterDisposeScope(), shift, inertia);
    }

    /// <summary>sklearn <c>_kmeans_plusplus</c>: greedy k-means++ with <paramref name="trials"/> candidates per centre.</summary>
    internal static Tensor KMeansPlusPlus(Tensor x, int k, int trials, Random rng)
    {
        using var scope = NewDisposeScope();
        var m = x.shape[0];
        var x2 = x.pow(Scalars.Of(2L)).sum(1);
        var chosen = new long[k];
        chosen[0] = rng.NextInt64(m);
        var closest = SquaredDistances(x.narrow(0, chosen[0], 1), x, x2).squeeze(0).to(ScalarType.Float64);
        var potential = closest.sum().item<double>();
        for (var c = 1; c < k; c++)
        {
            using var inner = NewDisposeScope();
            var rand = new double[trials];
            for (var t = 0; t < trials; t++) rand[t] = rng.NextDouble() * potential;
            using var lastRow = (m - 1).ToScalar();
            var cumulative = closest.cumsum(0L);
            var ids = torch.searchsorted(cumulative, torch.tensor(rand, device: x.device)).clamp_max_(lastRow);
            var candidates = SquaredDistances(x.index_select(0, ids), x, x2).to(ScalarType.Float64);
            candidates = torch.minimum(closest.unsqueeze(0), candidates);
            var pots = candidates.sum(1);
            var best = pots.argmin().item<long>();
            potential = pots[best].item<double>();
            chosen[c] = ids[best].item<long>();
            var next = candidates[best].contiguous().MoveToOuterDisposeScope();
            closest.Dispose();
            closest = next;
        }
        return x.index_select(0, torch.tensor(chosen, device: x.device)).MoveToOuterDisposeScope();
    }

    private static Tensor SquaredDistances(Tensor a, Tensor x, Tensor x2)
    {
        using var scope = NewDisposeScope();
        var a2 = a.pow(Scalars.Of(2L)).sum(1, keepdim: true);
        return torch.addmm(x2.unsqueeze(0), a, x.t(), beta: 1, alpha: -2).add_(a2, Scalars.One).clamp_min_(Scalars.Of(0)).MoveToOuterDisposeScope();
    }

    private static double ExactInertia(Tensor x, Tensor centers)
    {
        using var scope = NewDisposeScope();
        var (labels, _) = KMeansCodebook.Nearest(x, centers, centers.pow(Scalars.Of(2L)).sum(1));
        return (x.to(ScalarType.Float64) - centers.index_select(0, labels).to(ScalarType.Float64)).pow(Scalars.Of(2L)).sum().item<double>();
    }

    private static long[] Draw(Random rng, long n, long count)
    {
        var a = new long[count];
        for (long i = 0; i < count; i++) a[i] = rng.NextInt64(n);
        return a;
    }

    /// <summary>Distinct indices in [0, n) (partial Fisher–Yates), as numpy's choice without replacement.</summary>
    private static long[] Choose(Random rng, long n, int count)
    {
        var pool = new long[n];
        for (long i = 0; i < n; i++) pool[i] = i;
        for (var i = 0; i < count; i++)
        {
            var j = i + rng.NextInt64(n - i);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        return pool[..count];
    }

    private interface IData
    {
        long Rows { get; }

        /// <summary>Rows for each index set (null = every row), float32 on the device; the caller disposes.</summary>
        List<Tensor> Gather(List<long[]?> sets);

        /// <summary>Endless mini-batches <c>[batch, D]</c> on the device.</summary>
        IEnumerable<Tensor> Batches(int batch, Random rng, long bufferRows);

        /// <summary>One pass over all rows in chunks on the device.</summary>
        IEnumerable<Tensor> Pass(CancellationToken ct);

        double MeanVariance(Tensor sample);
    }

    private sealed class InMemoryData(Tensor x) : IData
    {
        public long Rows => x.shape[0];

        public List<Tensor> Gather(List<long[]?> sets) =>
            sets.Select(s => s is null ? x.clone() : x.index_select(0, torch.tensor(s, device: x.device))).ToList();

        public IEnumerable<Tensor> Batches(int batch, Random rng, long bufferRows)
        {
            while (true)
            {
                var idx = Draw(rng, Rows, batch);
                using var t = torch.tensor(idx, device: x.device);
                yield return x.index_select(0, t);
            }
        }

        public IEnumerable<Tensor> Pass(CancellationToken ct)
        {
            for (long s = 0; s < Rows; s += KMeansCodebook.AssignChunkRows)
            {
                ct.ThrowIfCancellationRequested();
                yield return x.narrow(0, s, Math.Min(KMeansCodebook.AssignChunkRows, Rows - s));
            }
        }

        public double MeanVariance(Tensor sample)
        {
            using var v = x.var(0L, unbiased: false);
            return v.mean().item<float>();
        }
    }

    private sealed class StreamData(IFeatureSource source, Device device, CancellationToken ct) : IData
    {
        public long Rows { get; } = source.Rows;

        public List<Tensor> Gather(List<long[]?> sets)
        {
            var result = new Tensor?[sets.Count];
            try
            {
                // Group the sets into passes whose gathered rows fit the budget; one pass over the source per group.
                var rowBytes = 4L * source.Dimension;
                var group = new List<int>();
                long groupRows = 0;
                for (var i = 0; i <= sets.Count; i++)
                {
                    var rows = i < sets.Count ? sets[i]?.LongLength ?? Rows : 0;
                    if (i == sets.Count || (group.Count > 0 && (groupRows + rows) * rowBytes > GatherBudgetBytes))
                    {
                        GatherPass(group, sets, result);
                        group.Clear();
                        groupRows = 0;
                    }
                    if (i < sets.Count) { group.Add(i); groupRows += rows; }
                }
                return result.Select(t => t!).ToList();
            }
            catch
            {
                foreach (var t in result) t?.Dispose();
                throw;
            }
        }

        private void GatherPass(List<int> group, List<long[]?> sets, Tensor?[] result)
        {
            if (group.Count == 0) return;
            // Flatten (row, set, position) and sort by row so one sequential pass serves every set.
            var wanted = new List<(long Row, int Set, long Pos)>();
            foreach (var s in group)
            {
                var idx = sets[s];
                var count = idx?.LongLength ?? Rows;
                result[s] = torch.empty(count, source.Dimension, ScalarType.Float32, device);
                for (long p = 0; p < count; p++) wanted.Add((idx?[p] ?? p, s, p));
            }
            wanted.Sort((a, b) => a.Row.CompareTo(b.Row));
            var cursor = 0;
            long offset = 0;
            foreach (var chunk in source.ReadChunks(ct))
            {
                using var owned = chunk;
                var len = chunk.shape[0];
                var start = cursor;
                while (cursor < wanted.Count && wanted[cursor].Row < offset + len) cursor++;
                if (cursor > start)
                {
                    using var scope = NewDisposeScope();
                    var onDevice = chunk.to(device);
                    foreach (var bySet in wanted.Skip(start).Take(cursor - start).GroupBy(w => w.Set))
                    {
                        var local = torch.tensor(bySet.Select(w => w.Row - offset).ToArray(), device: device);
                        var pos = torch.tensor(bySet.Select(w => w.Pos).ToArray(), device: device);
                        result[bySet.Key]!.index_copy_(0, pos, onDevice.index_select(0, local));
                    }
                }
                offset += len;
            }
            if (cursor < wanted.Count)
                throw new HArnessDataException($"The feature source yielded {offset} rows but reported {Rows}.");
        }

        public IEnumerable<Tensor> Batches(int batch, Random rng, long bufferRows)
        {
            bufferRows = Math.Max(bufferRows, batch);
            var pending = new List<Tensor>();
            long pendingRows = 0;
            try
            {
                while (true)
                {
                    var any = false;
                    foreach (var chunk in source.ReadChunks(ct))
                    {
                        any = true;
                        // This iterator advances inside the caller's per-step dispose scope; buffered tensors must
                        // outlive that step.
                        pending.Add(chunk.DetachFromDisposeScope());
                        pendingRows += chunk.shape[0];
                        if (pendingRows < bufferRows) continue;
                        foreach (var b in Drain(pending, ref pendingRows, batch, rng)) yield return b;
                    }
                    if (!any) yield break;
                    // A corpus smaller than the buffer: emit what one pass gave (the remainder carries over).
                    if (pendingRows >= batch)
                        foreach (var b in Drain(pending, ref pendingRows, batch, rng)) yield return b;
                }
            }
            finally
            {
                foreach (var t in pending) t.Dispose();
            }
        }

        /// <summary>Shuffles the buffered rows and cuts whole batches; the remainder stays pending.</summary>
        private List<Tensor> Drain(List<Tensor> pending, ref long pendingRows, int batch, Random rng)
        {
            var output = new List<Tensor>();
            using var all = pending.Count == 1 ? pending[0].alias() : torch.cat(pending, 0);
            foreach (var t in pending) t.Dispose();
            pending.Clear();
            var perm = new long[pendingRows];
            for (long i = 0; i < perm.LongLength; i++) perm[i] = i;
            for (var i = perm.LongLength - 1; i > 0; i--)
            {
                var j = rng.NextInt64(i + 1);
                (perm[i], perm[j]) = (perm[j], perm[i]);
            }
            var whole = pendingRows / batch * batch;
            for (long s = 0; s < whole; s += batch)
            {
                using var idx = torch.tensor(perm[(int)s..(int)(s + batch)]);
                using var rows = all.index_select(0, idx);
                output.Add(rows.to(device).contiguous().DetachFromDisposeScope());
            }
            if (whole < pendingRows)
            {
                using var idx = torch.tensor(perm[(int)whole..]);
                pending.Add(all.index_select(0, idx).DetachFromDisposeScope());
            }
            pendingRows -= whole;
            return output;
        }

        public IEnumerable<Tensor> Pass(CancellationToken token)
        {
            foreach (var chunk in source.ReadChunks(token))
            {
                if (chunk.device == device) { yield return chunk; continue; }
                using (chunk) yield return chunk.to(device);
            }
        }

        public double MeanVariance(Tensor sample)
        {
            using var v = sample.var(0L, unbiased: false);
            return v.mean().item<float>();
        }
    }
}
