using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Distillation.Initialization;

/// <summary>Initialises a thinner student from a teacher through an orthonormal basis <c>P [dTeacher, dStudent]</c>
/// of the hidden width (e.g. the top principal components of the teacher's hidden activations:
/// <c>P = pca.Components.t()</c>), so that the student's hidden state approximates <c>h_s = Pᵀ h_t</c>. A pure
/// function over HF-style state dicts; the teacher's dict is not changed.
/// <para>The rules, per key (W a weight <c>[out, in]</c>, b a bias):</para>
/// <list type="bullet">
/// <item><c>feature_extractor.*</c>, <c>feature_projection.layer_norm.*</c> (conv width): copied.</item>
/// <item><c>feature_projection.projection</c>: <c>W_s = Pᵀ W</c>, <c>b_s = Pᵀ b</c>.</item>
/// <item>hidden → hidden maps (<c>attention.{q,k,v,out}_proj</c>): <c>W_s = Pᵀ W P</c>, <c>b_s = Pᵀ b</c>. Heads
/// split the thin width; q/k/v mix across the teacher's heads, so attention is approximate.</item>
/// <item><c>feed_forward.intermediate_dense</c>: <c>W_s = R W P</c>, <c>b_s = R b</c>; <c>output_dense</c>:
/// <c>W_s = Pᵀ W Rᵀ</c>, <c>b_s = Pᵀ b</c>, where R selects or projects the inner width
/// (<see cref="FfnWidthRule"/>: identity, the top rows by norm of <c>W P</c>, or <c>Qᵀ</c>).</item>
/// <item>layer norms over the hidden width (<c>encoder.layer_norm</c>, each layer's <c>layer_norm</c> and
/// <c>final_layer_norm</c>): <c>γ_s = diag(Pᵀ diag(γ) P)</c>, i.e. <c>γ_s[j] = Σ_k P[k,j]² γ[k]</c>;
/// <c>β_s = Pᵀ β</c>. (A norm does not commute with a projection: this is the closest diagonal.)</item>
/// <item><c>encoder.pos_conv_embed.conv</c>: per kernel tap the effective weight <c>g·v/‖v‖</c> as a block-diagonal
/// <c>[d, d]</c> matrix M, projected to <c>Pᵀ M P</c>, whose diagonal blocks for the same group count become the
/// student's <c>weight_v</c>; <c>weight_g</c> is its norm per tap (so the effective weight is exactly the blocks);
/// <c>b_s = Pᵀ b</c>. Off-block parts are dropped. The thin width must be divisible by the group count.</item>
/// <item><c>masked_spec_embed</c>: <c>Pᵀ m</c>.</item>
/// <item>anything else (prediction heads, codebooks): left out and listed in <see cref="InitializedState.Skipped"/>.</item>
/// </list>
/// <para>With <c>P = I</c> every tensor is copied exactly (the positional conv's effective weight exactly, its
/// g/v split up to the weight-norm reparametrisation). For inputs in the span of P every linear map is exact on the
/// subspace: <c>W_s (Pᵀ x) = Pᵀ W x</c>, and so is the whole feed-forward block with
/// <see cref="FfnWidthRule.KeepAll"/>.</para></summary>
public static class PcaInitialization
{
    /// <summary>Projects a teacher's state into a thin student's.</summary>
    /// <param name="teacher">The teacher's state dict (HF-style keys).</param>
    /// <param name="basis"><c>P [dTeacher, dStudent]</c> with orthonormal columns, <c>dStudent ≤ dTeacher</c>.</param>
    /// <param name="layerMap">Student layer i from teacher layer <c>layerMap[i]</c> (0-based); <c>null</c> = every
    /// teacher layer in order.</param>
    /// <param name="options">The feed-forward rule; <c>null</c> = defaults.</param>
    /// <returns>The thin student's state: every key it needs, all new tensors.</returns>
    /// <exception cref="ArgumentException">The basis is not 2-D, wider than the teacher, not orthonormal, or its
    /// rows do not match the teacher's width; the thin width does not split into the positional conv's groups.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A mapped teacher layer does not exist.</exception>
    /// <exception cref="HArnessCheckpointException">The teacher's tensors are mis-shaped for their keys.</exception>
    /// <exception cref="HArnessValidationException">An option is invalid.</exception>
    public static InitializedState Project(IReadOnlyDictionary<string, Tensor> teacher, Tensor basis, IReadOnlyList<int>? layerMap = null,
        PcaProjectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(basis);
        var o = options ?? new PcaProjectionOptions();
        o.Validate();
        if (basis.dim() != 2 || basis.shape[1] > basis.shape[0] || basis.shape[1] < 1)
            throw new ArgumentException($"The basis must be [dTeacher, dStudent] with 1 ≤ dStudent ≤ dTeacher, got {StateKeys.Shape(basis)}.", nameof(basis));
        var teacherLayers = StateKeys.CountLayers(teacher);
        var map = layerMap ?? Enumerable.Range(0, teacherLayers).ToArray();
        TeacherInitialization.CheckMap(map, teacherLayers, map.Count);

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var used = new List<string>();
        using (var scope = NewDisposeScope())
        {
            var dT = basis.shape[0];
            var p = basis.detach().to(ScalarType.Float64).cpu();
            CheckOrthonormal(p, o.OrthonormalityTolerance, nameof(basis));
            var pt = p.t();
            Tensor? q = null;
            if (o.FfnRule == FfnWidthRule.Basis)
            {
                q = o.FfnBasis!.detach().to(ScalarType.Float64).cpu();
                CheckOrthonormal(q, o.OrthonormalityTolerance, "options.FfnBasis");
            }

            void Put(string studentKey, string teacherKey, Tensor value)
            {
                var src = teacher[teacherKey];
                result[studentKey] = value.to(src.dtype, src.device).contiguous().clone().MoveToOuterDisposeScope();
                used.Add(teacherKey);
            }
            Tensor Get(string key, params long[] shape)
            {
                if (!teacher.TryGetValue(key, out var t))
                    throw new HArnessCheckpointException($"The teacher has no '{key}' (needed to project its feed-forward block).");
                if (shape.Length > 0 && (t.dim() != shape.Length || shape.Where((s, i) => s >= 0 && t.shape[i] != s).Any()))
                    throw new HArnessCheckpointException(
                        $"The teacher's '{key}' is {StateKeys.Shape(t)}, expected [{string.Join(", ", shape.Select(s => s < 0 ? "*" : s.ToString(System.Globalization.CultureInfo.InvariantCulture)))}] for a hidden width of {dT}.");
                return t.detach().to(ScalarType.Float64).cpu();
            }
            Tensor NormWeight(Tensor g) => (p.pow(Scalars.Of(2L)) * g.unsqueeze(1)).sum(dim: 0); // γ_s[j] = Σ_k P[k,j]² γ[k]

            foreach (var key in teacher.Keys)
            {
                if (key.StartsWith("feature_extractor.", StringComparison.Ordinal) || key.StartsWith("feature_projection.layer_norm.", StringComparison.Ordinal))
                    Put(key, key, Get(key));
                else if (key == "feature_projection.projection.weight") Put(key, key, pt.matmul(Get(key, dT, -1)));
                else if (key == "feature_projection.projection.bias" || key == "encoder.layer_norm.bias" || key == "encoder.pos_conv_embed.conv.bias"
                         || key == "masked_spec_embed")
                    Put(key, key, pt.matmul(Get(key, dT)));
                else if (key == "encoder.layer_norm.weight") Put(key, key, NormWeight(Get(key, dT)));
            }
            if (teacher.ContainsKey("encoder.pos_conv_embed.conv.weight_v")) ProjectPositionalConv(teacher, p, Get, Put);

            for (var i = 0; i < map.Count; i++)
            {
                var tp = $"{StateKeys.LayerPrefix}{map[i]}.";
                var sp = $"{StateKeys.LayerPrefix}{i}.";
                foreach (var key in teacher.Keys.Where(k => k.StartsWith(tp, StringComparison.Ordinal)).ToArray())
                {
                    var rest = key[tp.Length..];
                    switch (rest)
                    {
                        case "attention.q_proj.weight" or "attention.k_proj.weight" or "attention.v_proj.weight" or "attention.out_proj.weight":
                            Put(sp + rest, key, pt.matmul(Get(key, dT, dT)).matmul(p));
                            break;
                        case "attention.q_proj.bias" or "attention.k_proj.bias" or "attention.v_proj.bias" or "attention.out_proj.bias"
                            or "layer_norm.bias" or "final_layer_norm.bias" or "feed_forward.output_dense.bias":
                            Put(sp + rest, key, pt.matmul(Get(key, dT)));
                            break;
                        case "layer_norm.weight" or "final_layer_norm.weight":
                            Put(sp + rest, key, NormWeight(Get(key, dT)));
                            break;
                    }
                }
                ProjectFeedForward(tp, sp, p, q, o, Get, Put);
            }
        }
        var usedSet = new HashSet<string>(used, StringComparer.Ordinal);
        return new InitializedState(result, used.Distinct().Select(k => k).ToArray(), teacher.Keys.Where(k => !usedSet.Contains(k)).ToArray());
    }

    /// <summary>An orthonormal basis of the top principal directions of teacher activations, ready for
    /// <see cref="Project"/>: the first <paramref name="components"/> right singular vectors of the centred
    /// activations (float64 SVD), each column's sign fixed so its largest-magnitude entry is positive. The basis is
    /// applied without the mean (<c>h_s = Pᵀ h_t</c>). For corpus-scale statistics use the targets pipeline's
    /// streamed <c>Pca</c> and pass <c>pca.Components.t()</c> instead.</summary>
    /// <param name="activations">Teacher hidden states <c>[n, dTeacher]</c> (frames of any layers, padding removed).</param>
    /// <param name="components">dStudent, in <c>[1, min(n, dTeacher)]</c>.</param>
    /// <returns><c>P [dTeacher, components]</c>, float32 on the CPU.</returns>
    /// <exception cref="ArgumentException">The activations are not 2-D.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The component count is out of range.</exception>
    public static Tensor BasisFromActivations(Tensor activations, int components)
    {
        ArgumentNullException.ThrowIfNull(activations);
        if (activations.dim() != 2)
            throw new ArgumentException($"Activations must be [frames, dim], got {StateKeys.Shape(activations)}.", nameof(activations));
        var max = Math.Min(activations.shape[0], activations.shape[1]);
        if (components < 1 || components > max)
            throw new ArgumentOutOfRangeException(nameof(components), $"Components must lie in [1, {max}] for activations {StateKeys.Shape(activations)}, got {components}.");
        using var scope = NewDisposeScope();
        var x = activations.detach().to(ScalarType.Float64).cpu();
        x = x - x.mean([0], keepdim: true);
        var (_, _, vh) = linalg.svd(x, fullMatrices: false);
        var p = vh.narrow(0, 0, components).t(); // [d, k]
        var idx = p.abs().argmax(0);
        var signs = p.gather(0, idx.unsqueeze(0)).sign();
        signs = where(signs.eq(Scalars.Of(0)), ones_like(signs), signs);
        return (p * signs).to(ScalarType.Float32).contiguous().MoveToOuterDisposeScope();
    }

    private static void ProjectFeedForward(string tp, string sp, Tensor p, Tensor? q, PcaProjectionOptions o,
        Func<string, long[], Tensor> get, Action<string, string, Tensor> put)
    {
        var wiKey = tp + "feed_forward.intermediate_dense.weight";
        var biKey = tp + "feed_forward.intermediate_dense.bias";
        var woKey = tp + "feed_forward.output_dense.weight";
        var dT = p.shape[0];
        var wi = get(wiKey, [-1, dT]);
        var ffT = wi.shape[0];
        var wo = get(woKey, [dT, ffT]);
        var bi = get(biKey, [ffT]);
        var wiP = wi.matmul(p); // [ffT, dS]
        var woP = p.t().matmul(wo); // [dS, ffT]
        switch (o.FfnRule)
        {
            case FfnWidthRule.KeepAll:
                put(sp + "feed_forward.intermediate_dense.weight", wiKey, wiP);
                put(sp + "feed_forward.intermediate_dense.bias", biKey, bi);
                put(sp + "feed_forward.output_dense.weight", woKey, woP);
                break;
            case FfnWidthRule.TopRowsByNorm:
            {
                var keep = o.StudentFfnDim!.Value;
                if (keep > ffT)
                    throw new ArgumentException($"StudentFfnDim {keep} is wider than the teacher's feed-forward ({ffT}).", nameof(o));
                var idx = wiP.norm(1).topk(keep).indexes.sort().Values;
                put(sp + "feed_forward.intermediate_dense.weight", wiKey, wiP.index_select(0, idx));
                put(sp + "feed_forward.intermediate_dense.bias", biKey, bi.index_select(0, idx));
                put(sp + "feed_forward.output_dense.weight", woKey, woP.index_select(1, idx));
                break;
            }
            case FfnWidthRule.Basis:
                if (q!.shape[0] != ffT)
                    throw new ArgumentException($"FfnBasis has {q.shape[0]} rows but the teacher's feed-forward is {ffT} wide.", nameof(o));
                put(sp + "feed_forward.intermediate_dense.weight", wiKey, q.t().matmul(wiP));
                put(sp + "feed_forward.intermediate_dense.bias", biKey, q.t().matmul(bi));
                put(sp + "feed_forward.output_dense.weight", woKey, woP.matmul(q));
                break;
        }
    }

    private static void ProjectPositionalConv(IReadOnlyDictionary<string, Tensor> teacher, Tensor p, Func<string, long[], Tensor> get,
        Action<string, string, Tensor> put)
    {
        const string gKey = "encoder.pos_conv_embed.conv.weight_g";
        const string vKey = "encoder.pos_conv_embed.conv.weight_v";
        var dT = p.shape[0];
        var dS = p.shape[1];
        var v = get(vKey, [dT, -1, -1]);
        var perGroup = v.shape[1];
        var k = v.shape[2];
        if (perGroup < 1 || dT % perGroup != 0)
            throw new HArnessCheckpointException($"The teacher's '{vKey}' {StateKeys.Shape(v)} does not split {dT} channels into groups.");
        var groups = dT / perGroup;
        if (dS % groups != 0)
            throw new ArgumentException($"The thin width {dS} is not divisible by the positional conv's {groups} groups.", "basis");
        var g = teacher.ContainsKey(gKey) ? get(gKey, [1, 1, k]) : null;
        // effective weight per tap: g · v / ‖v‖ with the norm over dims 0 and 1
        var w = g is null ? v : v * (g / v.pow(Scalars.Of(2L)).sum([0, 1], keepdim: true).sqrt().clamp_min(Scalars.Of(1e-12)));
        var sPer = dS / groups;
        var vs = zeros(dS, sPer, k, dtype: ScalarType.Float64);
        for (var tap = 0; tap < k; tap++)
        {
            var full = zeros(dT, dT, dtype: ScalarType.Float64);
            for (var gi = 0; gi < groups; gi++)
                full[TensorIndex.Slice(gi * perGroup, (gi + 1) * perGroup), TensorIndex.Slice(gi * perGroup, (gi + 1) * perGroup)] =
                    w[TensorIndex.Slice(gi * perGroup, (gi + 1) * perGroup), TensorIndex.Colon, tap];
            var proj = p.t().matmul(full).matmul(p); // [dS, dS]
            for (var gi = 0; gi < groups; gi++)
                vs[TensorIndex.Slice(gi * sPer, (gi + 1) * sPer), TensorIndex.Colon, tap] =
                    proj[TensorIndex.Slice(gi * sPer, (gi + 1) * sPer), TensorIndex.Slice(gi * sPer, (gi + 1) * sPer)];
        }
        put(vKey, vKey, vs);
        if (g is not null) put(gKey, gKey, vs.pow(Scalars.Of(2L)).sum([0, 1], keepdim: true).sqrt());
    }

    private static void CheckOrthonormal(Tensor basis, double tolerance, string paramName)
    {
        using var gram = basis.t().matmul(basis);
        using var identity = eye(basis.shape[1], dtype: ScalarType.Float64);
        var err = (gram - identity).abs().max().item<double>();
        if (!(err <= tolerance))
            throw new ArgumentException(
                $"The basis {StateKeys.Shape(basis)} must have orthonormal columns (PᵀP = I); the largest |PᵀP − I| entry is {err:G3}, above {tolerance:G3}.",
                paramName);
    }
}
