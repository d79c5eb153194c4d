using System.Diagnostics;
using HArnESS.Training;

namespace HArnESS.Samples.Quickstart;

/// <summary>Live progress on the console: one line per stage with the elapsed time, detail lines under it, and
/// training progress throttled to about ten lines per run (every validation and the last step always).</summary>
internal sealed class ConsoleLog
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Stage(string text) => Console.WriteLine($"\n[{_clock.Elapsed.TotalSeconds,6:F1}s] {text}");

    public void Detail(string text) => Console.WriteLine($"         {text}");

    /// <summary>Whether a trainer report deserves a line: every tenth of the run, validations, the end.</summary>
    public static bool Worth(TrainingProgress? p) => p is null
        || p.Stage is TrainingStage.Validation or TrainingStage.Finished or TrainingStage.Resumed
        || (p.Stage == TrainingStage.Training && (p.Step == 1 || p.Step == p.TotalSteps || p.Step % Math.Max(1, p.TotalSteps / 10) == 0));

    /// <summary>Forwards reports synchronously, in order, on the reporting thread (the console stays in step order).</summary>
    public sealed class Sync<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }
}
