using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

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
    private static readonly ScalarCache<double> Doubles = new(static v => v.ToScalar());
    private static readonly ScalarCache<long> Integers = new(static v => v.ToScalar());

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
    public static Scalar Of(double value) => Doubles.Get(value);

    /// <summary>An integer constant (keeps integer tensors integer). Same cache rule as <see cref="Of(double)"/>.</summary>
    public static Scalar Of(long value) => Integers.Get(value);

    /// <summary>
    /// <c>torch.arange(stop)</c> (0, 1, …, stop − 1 as int64 unless <paramref name="dtype"/> says otherwise) without
    /// TorchSharp's temporary start, stop and step Scalars: the stop is a <c>using</c> local, start and step are
    /// <see cref="Zero"/> and <see cref="One"/>.
    /// </summary>
    public static Tensor Arange(long stop, Device? device = null, ScalarType? dtype = null)
    {
        using var end = stop.ToScalar();
        return torch.arange(Zero, end, One, dtype: dtype, device: device);
    }
}

/// <summary>One kind of <see cref="Scalars"/> constant: created once, never freed, at most
/// <see cref="MaxCachedConstants"/> distinct values.</summary>
internal sealed class ScalarCache<T>(Func<T, Scalar> create) where T : notnull
{
    internal const int MaxCachedConstants = 4096;
    private readonly ConcurrentDictionary<T, Scalar> _cache = new();

    public int Count => _cache.Count;

    public Scalar Get(T value)
    {
        if (_cache.TryGetValue(value, out var existing)) return existing;
        if (_cache.Count >= MaxCachedConstants)
            throw new InvalidOperationException(
                $"Scalars.Of({value}): more than {MaxCachedConstants} distinct cached constants; a value computed at run time must be a 'using var s = value.ToScalar()' local, not a cached constant.");
        HArnESS.Runtime.HArnessRuntime.EnsureInitialized();
        // GetOrAdd may run the factory twice under a race; the loser is disposed so no handle is left to a finalizer.
        var created = create(value);
        var kept = _cache.GetOrAdd(value, created);
        if (!ReferenceEquals(kept, created)) created.Dispose();
        return kept;
    }
}
