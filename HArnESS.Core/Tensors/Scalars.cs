using System.Collections.Concurrent;
using TorchSharp;

namespace HArnESS.Tensors;

/// <summary>
/// Process-lifetime TorchSharp <see cref="Scalar"/> constants, for every tensor call that takes a Scalar.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 hands a <see cref="Scalar"/> to libtorch by its raw handle and frees that handle in the Scalar's
/// finalizer. An implicitly converted Scalar (<c>x * 0.5</c>, <c>x.masked_fill(m, 0)</c>, and every <c>a + b</c> or
/// <c>a - b</c> of two tensors, which TorchSharp turns into <c>add(b, 1)</c> with a temporary Scalar) is unreachable
/// as soon as its handle has been read, so a garbage collection started by any other thread during the native call
/// may finalize it while libtorch still reads it: an error such as <c>c10/core/Scalar.h toFloat</c> or
/// <c>Expected false to be true</c>, or a silently wrong result. Scalars from here are rooted for the life of the
/// process and never freed; a value computed at run time goes through <c>using var s = value.ToScalar();</c> so the
/// <c>using</c> keeps it alive until the call has returned. Native code only reads a Scalar, so one instance serves
/// every thread.
/// </remarks>
public static class Scalars
{
    private const int MaxCachedConstants = 4096;
    private static readonly ConcurrentDictionary<double, Scalar> Doubles = new();
    private static readonly ConcurrentDictionary<long, Scalar> Integers = new();

    /// <summary>The integer 1 (the <c>alpha</c> of a plain <c>add</c>/<c>sub</c>; keeps integer tensors integer).</summary>
    public static Scalar One => Of(1L);

    /// <summary>The integer 0.</summary>
    public static Scalar Zero => Of(0L);

    /// <summary>The integer −1.</summary>
    public static Scalar MinusOne => Of(-1L);

    /// <summary>
    /// A floating-point constant (promotes integer tensors to the default float type, as Python's float literals do).
    /// For constants written in the code only: the cache holds at most 4,096 values and refuses more, so a value
    /// computed at run time (a learning rate, a loss weight) must use <c>using var s = value.ToScalar()</c> instead.
    /// </summary>
    public static Scalar Of(double value) => Cached(Doubles, value, static v => v.ToScalar());

    /// <summary>An integer constant (keeps integer tensors integer). Same cache rule as <see cref="Of(double)"/>.</summary>
    public static Scalar Of(long value) => Cached(Integers, value, static v => v.ToScalar());

    private static Scalar Cached<T>(ConcurrentDictionary<T, Scalar> cache, T value, Func<T, Scalar> create) where T : notnull
    {
        if (cache.TryGetValue(value, out var existing)) return existing;
        if (cache.Count >= MaxCachedConstants)
            throw new InvalidOperationException(
                $"Scalars.Of({value}): more than {MaxCachedConstants} distinct cached constants; a value computed at run time must be a 'using var s = value.ToScalar()' local, not a cached constant.");
        HArnESS.Runtime.HArnessRuntime.EnsureInitialized();
        // GetOrAdd may run the factory twice under a race; the loser is disposed so no handle is left to a finalizer.
        var created = create(value);
        var kept = cache.GetOrAdd(value, created);
        if (!ReferenceEquals(kept, created)) created.Dispose();
        return kept;
    }
}
