// Lists the TorchSharp APIs that create a temporary TorchSharp.Scalar (Scalar.op_Implicit or
// ScalarExtensionMethods.ToScalar*) in their own IL, directly or through TorchSharp-internal calls, so that the
// HArnESS analyzer (HARN0002) can flag them. Reads the IL with System.Reflection.Metadata; loads nothing.
//
//   dotnet run --project scripts/torchsharp-scalars -c Release -- [path/to/TorchSharp.dll] [out-dir]
//
// Writes scalar-temporaries.txt (human-readable, with the call chain) and
// HArnESS.Analyzers/TorchSharpScalarApis.txt (one documentation-comment id per line: what HARN0002 flags).
using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
var dll = args.Length > 0 ? args[0] : Path.Combine(home, ".nuget/packages/torchsharp/0.107.0/lib/net8.0/TorchSharp.dll");
var outDir = args.Length > 1 ? args[1] : FindRepoRoot();
const int MaxDepth = 3;      // chains listed for the analyzer
const int AuditDepth = 10;   // depth of the clean-check of the modules/functionals HArnESS uses

using var pe = new PEReader(File.OpenRead(dll));
var md = pe.GetMetadataReader();
var names = new DocIdNames(md);

// Opcode table (one- and two-byte opcodes) from System.Reflection.Emit.
var oneByte = new OpCode[256];
var twoByte = new OpCode[256];
foreach (var f in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
{
    var op = (OpCode)f.GetValue(null)!;
    var v = (ushort)op.Value;
    if (op.Size == 1) oneByte[v] = op; else twoByte[v & 0xff] = op;
}

// 1. Per method definition: the methods it calls (definitions inside TorchSharp) and whether it creates a Scalar.
var callees = new Dictionary<MethodDefinitionHandle, HashSet<MethodDefinitionHandle>>();
var creates = new Dictionary<MethodDefinitionHandle, string>();   // method -> what it calls to create
var disposes = new HashSet<MethodDefinitionHandle>();             // also calls Scalar.Dispose (a 'using')
foreach (var th in md.TypeDefinitions)
{
    var type = md.GetTypeDefinition(th);
    foreach (var mh in type.GetMethods())
    {
        var m = md.GetMethodDefinition(mh);
        if (m.RelativeVirtualAddress == 0) continue;
        var body = pe.GetMethodBody(m.RelativeVirtualAddress);
        var set = new HashSet<MethodDefinitionHandle>();
        callees[mh] = set;
        var il = body.GetILReader();
        while (il.RemainingBytes > 0)
        {
            int b = il.ReadByte();
            var op = b == 0xFE ? twoByte[il.ReadByte()] : oneByte[b];
            switch (op.OperandType)
            {
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget: case OperandType.ShortInlineI: case OperandType.ShortInlineVar: il.ReadByte(); break;
                case OperandType.InlineVar: il.ReadUInt16(); break;
                case OperandType.InlineI8: case OperandType.InlineR: il.ReadInt64(); break;
                case OperandType.InlineSwitch: var n = il.ReadInt32(); for (var i = 0; i < n; i++) il.ReadInt32(); break;
                case OperandType.InlineMethod:
                {
                    var token = il.ReadInt32();
                    var handle = MetadataTokens.EntityHandle(token);
                    var (owner, name, def) = Resolve(handle);
                    if (def is { } d) set.Add(d);
                    if (Environment.GetEnvironmentVariable("DUMP") is { } dump && names.Short(mh).StartsWith(dump, StringComparison.Ordinal))
                        Console.WriteLine($"{names.Short(mh)}: {owner}.{name}");
                    if (owner == "TorchSharp.Scalar" && (name == "op_Implicit" || name == "op_Explicit"))
                        creates.TryAdd(mh, "Scalar." + name);
                    else if (owner == "TorchSharp.ScalarExtensionMethods" && name.StartsWith("ToScalar", StringComparison.Ordinal))
                        creates.TryAdd(mh, "ScalarExtensionMethods." + name);
                    else if (owner == "TorchSharp.Scalar" && name == "Dispose")
                        disposes.Add(mh);
                    break;
                }
                default: il.ReadInt32(); break;   // 4-byte operands (tokens, branches, I4, R4)
            }
        }
    }
}

// 2. Public API reachable from a creator within MaxDepth TorchSharp calls (breadth first, shortest chain kept).
var chain = new Dictionary<MethodDefinitionHandle, List<MethodDefinitionHandle>>();
foreach (var c in creates.Keys) chain[c] = new() { c };
var frontier = creates.Keys.ToList();
var callers = new Dictionary<MethodDefinitionHandle, List<MethodDefinitionHandle>>();
foreach (var (caller, set) in callees)
    foreach (var callee in set)
        (callers.TryGetValue(callee, out var l) ? l : callers[callee] = new()).Add(caller);
for (var depth = 1; depth <= AuditDepth; depth++)
{
    var next = new List<MethodDefinitionHandle>();
    foreach (var callee in frontier)
        if (callers.TryGetValue(callee, out var cs))
            foreach (var caller in cs)
                if (!chain.ContainsKey(caller))
                {
                    chain[caller] = new List<MethodDefinitionHandle> { caller }.Concat(chain[callee]).ToList();
                    next.Add(caller);
                }
    frontier = next;
}

// 3. Keep what user code can call: public methods of public (nested) types, excluding compiler-generated ones.
var rows = new List<(string Id, string Chain, string Via, bool Disposed, int Depth)>();
foreach (var (mh, path) in chain)
{
    if (!IsPublic(mh) || path.Count - 1 > MaxDepth) continue;
    if (names.TypeName(md.GetMethodDefinition(mh).GetDeclaringType()) == "TorchSharp.Scalar") continue;  // HARN0001's
    var id = names.MethodId(mh);
    var creator = path[^1];
    var via = creates[creator];
    var text = string.Join(" -> ", path.Select(p => names.Short(p)));
    rows.Add((id, text, via, disposes.Contains(creator), path.Count - 1));
}
rows.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));

var analyzerList = Path.Combine(outDir, "HArnESS.Analyzers", "TorchSharpScalarApis.txt");
var report = Path.Combine(outDir, "scripts", "torchsharp-scalars", "scalar-temporaries.txt");
Directory.CreateDirectory(Path.GetDirectoryName(analyzerList)!);
using (var w = new StreamWriter(analyzerList))
{
    w.WriteLine("# Generated by scripts/torchsharp-scalars from TorchSharp 0.107.0 (do not edit by hand).");
    w.WriteLine("# Public TorchSharp APIs whose IL creates a temporary TorchSharp.Scalar, directly or within "
                + MaxDepth + " TorchSharp calls,");
    w.WriteLine("# and does not dispose it in the creating method. One documentation-comment id per line (HARN0002).");
    foreach (var r in rows.Where(r => !r.Disposed)) w.WriteLine(r.Id);
}
using (var w = new StreamWriter(report))
{
    w.WriteLine($"# TorchSharp 0.107.0 public APIs that create a temporary Scalar ({rows.Count} found, {rows.Count(r => r.Disposed)} dispose it).");
    w.WriteLine("# depth 0: the method itself converts; depth n: n TorchSharp calls down. 'disposed' = the creating method also calls Scalar.Dispose.");
    w.WriteLine("# id\tdepth\tcreates-by\tdisposed\tchain");
    foreach (var r in rows) w.WriteLine($"{r.Id}\t{r.Depth}\t{r.Via}\t{(r.Disposed ? "disposed" : "-")}\t{r.Chain}");
}
// 4. The modules, functionals and optimizers HArnESS uses (or might): clean to AuditDepth calls, or the chain.
string[] audit =
{
    "Modules.Linear.forward", "Modules.Conv1d.forward", "Modules.Conv2d.forward", "Modules.LayerNorm.forward",
    "Modules.GroupNorm.forward", "Modules.Dropout.forward", "Modules.GELU.forward", "Modules.ReLU.forward",
    "Modules.Embedding.forward", "Modules.MultiheadAttention.forward", "Modules.Sequential.forward",
    "Modules.ModuleList", "Modules.LSTM.forward", "Modules.GRU.forward", "Modules.Softmax.forward",
    "Modules.CrossEntropyLoss.forward", "Modules.MSELoss.forward", "Modules.L1Loss.forward", "Modules.CTCLoss.forward",
    "nn.functional.cross_entropy", "nn.functional.kl_div", "nn.functional.cosine_similarity", "nn.functional.log_softmax",
    "nn.functional.softmax", "nn.functional.ctc_loss", "nn.functional.pad", "nn.functional.normalize",
    "nn.functional.l1_loss", "nn.functional.mse_loss", "nn.functional.gelu", "nn.functional.dropout",
    "nn.functional.linear", "nn.functional.layer_norm", "nn.functional.group_norm", "nn.functional.binary_cross_entropy_with_logits",
    "nn.functional.nll_loss", "nn.functional.scaled_dot_product_attention", "nn.functional.conv1d", "nn.functional.interpolate",
    "nn.utils.clip_grad_norm_", "Modules.AdamW.step", "Modules.Adam.step", "Modules.SGD.step",
    "LRScheduler.step", "LRScheduler.get_last_lr",
};
using (var w = new StreamWriter(report, append: true))
{
    w.WriteLine();
    w.WriteLine($"# Audit of the TorchSharp modules/functionals/optimizers HArnESS uses or may use, to {AuditDepth} TorchSharp calls deep.");
    foreach (var a in audit)
    {
        var matches = callees.Keys.Where(IsPublic).Where(mh => names.MethodId(mh).Contains("." + a, StringComparison.Ordinal)).ToList();
        if (matches.Count == 0) { w.WriteLine($"{a}	not found"); continue; }
        foreach (var mh in matches.OrderBy(names.MethodId, StringComparer.Ordinal))
            w.WriteLine(chain.TryGetValue(mh, out var p)
                ? $"{names.MethodId(mh)}	CREATES (depth {p.Count - 1}, {creates[p[^1]]})	{string.Join(" -> ", p.Select(names.Short))}"
                : $"{names.MethodId(mh)}	clean");
    }
}
Console.WriteLine($"{rows.Count} public APIs ({rows.Count(r => !r.Disposed)} without a dispose) -> {analyzerList}, {report}");
return;

(string Owner, string Name, MethodDefinitionHandle? Def) Resolve(EntityHandle handle)
{
    switch (handle.Kind)
    {
        case HandleKind.MethodDefinition:
        {
            var mh = (MethodDefinitionHandle)handle;
            var m = md.GetMethodDefinition(mh);
            return (names.TypeName(m.GetDeclaringType()), md.GetString(m.Name), mh);
        }
        case HandleKind.MethodSpecification:
            return Resolve(md.GetMethodSpecification((MethodSpecificationHandle)handle).Method);
        case HandleKind.MemberReference:
        {
            var r = md.GetMemberReference((MemberReferenceHandle)handle);
            var owner = r.Parent.Kind switch
            {
                HandleKind.TypeReference => names.TypeRefName((TypeReferenceHandle)r.Parent),
                HandleKind.TypeDefinition => names.TypeName((TypeDefinitionHandle)r.Parent),
                _ => "?",
            };
            return (owner, md.GetString(r.Name), null);
        }
        default: return ("?", "?", null);
    }
}

bool IsPublic(MethodDefinitionHandle mh)
{
    var m = md.GetMethodDefinition(mh);
    var access = m.Attributes & System.Reflection.MethodAttributes.MemberAccessMask;
    if (access != System.Reflection.MethodAttributes.Public && access != System.Reflection.MethodAttributes.Family
        && access != System.Reflection.MethodAttributes.FamORAssem) return false;
    var name = md.GetString(m.Name);
    if (name.Contains('<')) return false;
    for (var t = m.GetDeclaringType(); !t.IsNil;)
    {
        var td = md.GetTypeDefinition(t);
        var vis = td.Attributes & System.Reflection.TypeAttributes.VisibilityMask;
        if (vis is not (System.Reflection.TypeAttributes.Public or System.Reflection.TypeAttributes.NestedPublic
            or System.Reflection.TypeAttributes.NestedFamily or System.Reflection.TypeAttributes.NestedFamORAssem)) return false;
        if (md.GetString(td.Name).Contains('<')) return false;
        t = td.GetDeclaringType();
    }
    return true;
}

static string FindRepoRoot()
{
    for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d != null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "HArnESS.sln"))) return d.FullName;
    throw new InvalidOperationException("run inside the HArnESS repository or pass the output directory");
}

/// <summary>Documentation-comment ids (as Roslyn's DocumentationCommentId writes them) from metadata.</summary>
sealed class DocIdNames(MetadataReader md) : ISignatureTypeProvider<string, object?>
{
    public string TypeName(TypeDefinitionHandle h)
    {
        var t = md.GetTypeDefinition(h);
        var name = md.GetString(t.Name);
        var decl = t.GetDeclaringType();
        if (!decl.IsNil) return TypeName(decl) + "." + name;
        var ns = md.GetString(t.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    public string TypeRefName(TypeReferenceHandle h)
    {
        var t = md.GetTypeReference(h);
        var name = md.GetString(t.Name);
        if (t.ResolutionScope.Kind == HandleKind.TypeReference) return TypeRefName((TypeReferenceHandle)t.ResolutionScope) + "." + name;
        var ns = md.GetString(t.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    public string MethodId(MethodDefinitionHandle mh)
    {
        var m = md.GetMethodDefinition(mh);
        var name = md.GetString(m.Name).Replace('.', '#');
        var sig = m.DecodeSignature(this, null);
        var generic = sig.GenericParameterCount > 0 ? "``" + sig.GenericParameterCount : "";
        var ps = sig.ParameterTypes.Length > 0 ? "(" + string.Join(",", sig.ParameterTypes) + ")" : "";
        var ret = name is "op_Implicit" or "op_Explicit" ? "~" + sig.ReturnType : "";
        return "M:" + StripArity(TypeName(m.GetDeclaringType()), keep: true) + "." + name + generic + ps + ret;
    }

    public string Short(MethodDefinitionHandle mh)
    {
        var m = md.GetMethodDefinition(mh);
        var type = TypeName(m.GetDeclaringType());
        var dot = type.LastIndexOf('.');
        var sig = m.DecodeSignature(this, null);
        return type[(dot + 1)..] + "." + md.GetString(m.Name) + "(" + string.Join(",", sig.ParameterTypes.Select(p => p[(p.LastIndexOf('.') + 1)..])) + ")";
    }

    static string StripArity(string s, bool keep) => s;   // type names keep `n, as in doc ids

    public string GetPrimitiveType(PrimitiveTypeCode c) => c switch
    {
        PrimitiveTypeCode.Boolean => "System.Boolean", PrimitiveTypeCode.Byte => "System.Byte", PrimitiveTypeCode.SByte => "System.SByte",
        PrimitiveTypeCode.Char => "System.Char", PrimitiveTypeCode.Int16 => "System.Int16", PrimitiveTypeCode.UInt16 => "System.UInt16",
        PrimitiveTypeCode.Int32 => "System.Int32", PrimitiveTypeCode.UInt32 => "System.UInt32", PrimitiveTypeCode.Int64 => "System.Int64",
        PrimitiveTypeCode.UInt64 => "System.UInt64", PrimitiveTypeCode.Single => "System.Single", PrimitiveTypeCode.Double => "System.Double",
        PrimitiveTypeCode.IntPtr => "System.IntPtr", PrimitiveTypeCode.UIntPtr => "System.UIntPtr", PrimitiveTypeCode.Object => "System.Object",
        PrimitiveTypeCode.String => "System.String", PrimitiveTypeCode.Void => "System.Void", PrimitiveTypeCode.TypedReference => "System.TypedReference",
        _ => c.ToString(),
    };
    public string GetTypeFromDefinition(MetadataReader r, TypeDefinitionHandle h, byte k) => TypeName(h);
    public string GetTypeFromReference(MetadataReader r, TypeReferenceHandle h, byte k) => TypeRefName(h);
    public string GetTypeFromSpecification(MetadataReader r, object? c, TypeSpecificationHandle h, byte k) => md.GetTypeSpecification(h).DecodeSignature(this, c);
    public string GetSZArrayType(string e) => e + "[]";
    public string GetArrayType(string e, ArrayShape s) => e + "[" + string.Join(",", Enumerable.Range(0, s.Rank).Select(_ => "0:")) + "]";
    public string GetByReferenceType(string e) => e + "@";
    public string GetPointerType(string e) => e + "*";
    public string GetPinnedType(string e) => e;
    public string GetModifiedType(string m, string u, bool req) => u;
    public string GetFunctionPointerType(MethodSignature<string> s) => "=FUNC:" + s.ReturnType;
    public string GetGenericInstantiation(string g, ImmutableArray<string> a)
    {
        var tick = g.LastIndexOf('`');
        return (tick > 0 ? g[..tick] : g) + "{" + string.Join(",", a) + "}";
    }
    public string GetGenericMethodParameter(object? c, int i) => "``" + i;
    public string GetGenericTypeParameter(object? c, int i) => "`" + i;
}
