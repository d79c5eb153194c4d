using static TorchSharp.torch;

namespace HArnESS.Serialization;

/// <summary>
/// A tensor described by <c>torch._utils._rebuild_tensor_v2</c>: a view (offset, size, stride) on a storage. Loading
/// reads the storage and copies the view into a new contiguous tensor, so non-contiguous views load correctly.
/// </summary>
internal sealed class TorchTensorRef : CheckpointTensor
{
    private readonly TorchStorageRef _storage;
    private readonly long _offset;
    private readonly long[] _stride;
    private readonly long _maxExpanded;

    public TorchTensorRef(string name, TorchStorageRef storage, long offset, long[] size, long[] stride, string filePath,
        long maxExpandedElements)
        : base(name, storage.DType, size, filePath)
    {
        _storage = storage;
        _offset = offset;
        _stride = stride;
        _maxExpanded = maxExpandedElements;
        // The pickle builds tensors before the dicts that name them: an unnamed one is checked when it is named
        // (Rename, from Tensors()) and again before it is read, so every error names the tensor.
        if (name != UnnamedName) Validate();
    }

    /// <summary>Name of a tensor the pickle has built but no dict has named yet.</summary>
    public const string UnnamedName = "<unnamed>";

    /// <summary>Same tensor under another name (names are known only once the pickle's dicts are walked).</summary>
    public TorchTensorRef Rename(string name) => new(name, _storage, _offset, Shape.ToArray(), _stride, FilePath, _maxExpanded);

    private void Validate()
    {
        if (Shape.Count != _stride.Length)
            throw Error($"has {Shape.Count} sizes but {_stride.Length} strides");
        if (_offset < 0 || Shape.Any(s => s < 0) || _stride.Any(s => s < 0))
            throw Error($"has a negative offset, size or stride (offset {_offset}, size {FormatShape(Shape)}, stride {FormatShape(_stride)})");
        if (TensorDTypes.ElementCount(Shape) is not { } n || !TensorDTypes.FitsInMemoryLayout(Shape, TensorDTypes.SizeOf(DType)))
            throw Error($"has size {FormatShape(Shape)}, too large");
        if (n == 0) return;
        // More elements than the storage holds is possible only with overlapping (stride-0, expanded) views: loading
        // materialises them, so their size is what the limit bounds, not the file's.
        if (n > _storage.ElementCount && n > _maxExpanded)
            throw Error($"is a view of {n} elements on storage '{_storage.Key}' of {_storage.ElementCount} (expanded by zero strides); " +
                        $"at most {_maxExpanded} expanded elements are read (TorchPickleOptions.MaxExpandedElements)");
        long last = _offset;
        try
        {
            for (int i = 0; i < Shape.Count; i++) last = checked(last + (Shape[i] - 1) * _stride[i]);
        }
        catch (OverflowException)
        {
            throw Error("has an extent that overflows");
        }
        if (last >= _storage.ElementCount)
            throw Error($"reaches element {last} of storage '{_storage.Key}', which holds {_storage.ElementCount} elements");
    }

    private HArnessCheckpointException Error(string what) =>
        new($"Checkpoint '{FilePath}': tensor '{Name}' {what}.", FilePath);

    protected override Tensor LoadCpu()
    {
        Validate();
        var bytes = _storage.Reader();
        int size = TensorDTypes.SizeOf(DType);
        long rootCount = bytes.LongLength / size;
        long start = _storage.ElementOffset;
        if (start + _storage.ElementCount > rootCount)
            throw Error($"needs storage '{_storage.Key}' of {start + _storage.ElementCount} elements, the archive holds {rootCount}");
        var span = bytes.AsSpan((int)(start * size), (int)(_storage.ElementCount * size));
        bool contiguous = _offset == 0 && ElementCount == _storage.ElementCount && IsContiguous();
        if (contiguous) return FromBytes(span, DType, Shape, Name, FilePath);
        using var flat = FromBytes(span, DType, [_storage.ElementCount], Name, FilePath);
        using var view = flat.as_strided(Shape.ToArray(), _stride, _offset);
        return view.contiguous().clone();
    }

    private bool IsContiguous()
    {
        long expected = 1;
        for (int i = Shape.Count - 1; i >= 0; i--)
        {
            if (Shape[i] != 1 && _stride[i] != expected) return false;
            expected *= Shape[i];
        }
        return true;
    }
}
