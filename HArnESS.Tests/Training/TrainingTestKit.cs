using HArnESS.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Training;

/// <summary>Small models, data and helpers shared by the trainer tests.</summary>
internal static class TrainingTestKit
{
    /// <summary>A regression pair batch: inputs [n, in] and targets [n, out].</summary>
    public sealed class PairBatch(Tensor x, Tensor y) : IDisposable
    {
        public Tensor X { get; } = x;
        public Tensor Y { get; } = y;
        public int Count => (int)X.shape[0];
        public void Dispose()
        {
            X.Dispose();
            Y.Dispose();
        }
    }

    /// <summary>Linear → LayerNorm → GELU → Linear regression model.</summary>
    public static nn.Module<Tensor, Tensor> Mlp(int seed, int inDim = 6, int hidden = 16, int outDim = 3)
    {
        torch.manual_seed(seed);
        return nn.Sequential(
            ("fc1", nn.Linear(inDim, hidden)), ("norm", nn.LayerNorm(hidden)), ("act", nn.GELU()), ("fc2", nn.Linear(hidden, outDim)));
    }

    /// <summary>Deterministic regression items: y = tanh(W x) for a fixed W.</summary>
    public static IReadOnlyList<(float[] X, float[] Y)> Pairs(int count, int seed, int inDim = 6, int outDim = 3)
    {
        var rng = new Random(seed);
        var w = Enumerable.Range(0, inDim * outDim).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        return Enumerable.Range(0, count).Select(_ =>
        {
            var x = Enumerable.Range(0, inDim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var y = Enumerable.Range(0, outDim).Select(o => (float)Math.Tanh(Enumerable.Range(0, inDim).Sum(i => w[o * inDim + i] * x[i]))).ToArray();
            return (x, y);
        }).ToArray();
    }

    // torch.tensor(float[]) wraps the pinned managed array, whose alignment varies from run to run, and libtorch's
    // vectorised kernels then sum in a different order (last-bit differences); a clone lives in libtorch's 64-byte
    // aligned memory, so runs repeat bit for bit.
    public static PairBatch MakeBatch(IReadOnlyList<(float[] X, float[] Y)> items)
    {
        using var x = tensor(items.SelectMany(i => i.X).ToArray(), [items.Count, items[0].X.Length]);
        using var y = tensor(items.SelectMany(i => i.Y).ToArray(), [items.Count, items[0].Y.Length]);
        return new(x.clone(), y.clone());
    }

    public static InMemoryBatchSource<(float[] X, float[] Y), PairBatch> Source(IReadOnlyList<(float[] X, float[] Y)> items, int batchSize, bool shuffle = true) =>
        new(items, batchSize, MakeBatch, shuffle, name: $"pairs {items.Count}");

    /// <summary>MSE of the model's output, sample size = rows; optional hook to poison a step.</summary>
    public sealed class MseObjective(nn.Module<Tensor, Tensor> model, Func<TrainingStepContext, double>? extra = null) : ITrainingObjective<PairBatch>
    {
        public TrainingLoss Compute(PairBatch batch, TrainingStepContext context)
        {
            var pred = model.forward(context.CastInput(batch.X)).to_type(ScalarType.Float32);
            var mse = nn.functional.mse_loss(pred, batch.Y.to(context.Device));
            var terms = new List<LossTerm> { new("mse", mse) };
            if (extra is not null) terms.Add(new LossTerm("extra", tensor((float)extra(context)), 1.0));
            return new TrainingLoss(terms, batch.Count);
        }
    }

    public sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    /// <summary>An ILoggerFactory that records every message.</summary>
    public sealed class ListLoggerFactory : ILoggerFactory
    {
        public List<(LogLevel Level, string Message)> Messages { get; } = [];
        public void AddProvider(ILoggerProvider provider) { }
        public ILogger CreateLogger(string categoryName) => new ListLogger(this);
        public void Dispose() { }

        private sealed class ListLogger(ListLoggerFactory owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner.Messages) owner.Messages.Add((logLevel, formatter(state, exception)));
            }
        }
    }

    public static Dictionary<string, float[]> Snapshot(nn.Module module) =>
        module.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().cpu().to_type(ScalarType.Float32).data<float>().ToArray());
}
