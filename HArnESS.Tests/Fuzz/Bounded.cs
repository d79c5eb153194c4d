using NUnit.Framework;

namespace HArnESS.Tests.Fuzz;

/// <summary>
/// Runs one parser call on its own thread with a wall-clock and a managed-allocation bound, so a hang or an
/// unbounded allocation fails the test instead of stalling the run. The bounds detect hangs and bombs; they are far
/// above what any case needs (a case takes milliseconds), so they never measure speed.
/// </summary>
internal static class Bounded
{
    public const int DefaultTimeoutMs = 20_000;

    /// <summary>What a bounded call did: its exception (null on success) and the bytes it allocated on the managed heap.</summary>
    public sealed record Outcome(Exception? Error, long AllocatedBytes);

    public static Outcome Run(Action action, string what, int timeoutMs = DefaultTimeoutMs, long maxAllocatedBytes = 1L << 30)
    {
        Exception? error = null;
        long allocated = 0;
        var thread = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { action(); }
            catch (Exception e) { error = e; }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, 16 << 20) { IsBackground = true, Name = "bounded " + what };
        thread.Start();
        if (!thread.Join(timeoutMs))
            Assert.Fail($"{what}: did not return within {timeoutMs / 1000} s (a hang).");
        if (allocated > maxAllocatedBytes)
            Assert.Fail($"{what}: allocated {allocated:N0} managed bytes, over the bound of {maxAllocatedBytes:N0}.");
        return new Outcome(error, allocated);
    }

    /// <summary>Runs <paramref name="action"/> bounded and returns the exception it must throw.</summary>
    public static TException Throws<TException>(Action action, string what = "call", long maxAllocatedBytes = 1L << 30)
        where TException : Exception
    {
        var outcome = Run(action, what, DefaultTimeoutMs, maxAllocatedBytes);
        Assert.That(outcome.Error, Is.InstanceOf<TException>(), $"{what}: expected {typeof(TException).Name}, got {outcome.Error?.GetType().Name ?? "no exception"}: {outcome.Error?.Message}");
        return (TException)outcome.Error!;
    }
}
