using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace HArnESS.Analyzers;

/// <summary>
/// Flags TorchSharp <c>Scalar</c> temporaries. TorchSharp 0.107 passes a Scalar to libtorch by its raw handle and
/// frees the handle in the Scalar's finalizer, so a Scalar that nothing roots (an implicit conversion, a
/// <c>ToScalar()</c> passed straight on, or one that TorchSharp creates inside <c>a + b</c>) can be freed by a GC that
/// another thread starts during the native call: random <c>c10/core/Scalar.h toFloat</c> errors or wrong numbers.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ScalarLifetimeAnalyzer : DiagnosticAnalyzer
{
    private const string Category = "HArnESS.TorchSharp";
    private const string Why = ". TorchSharp frees an unrooted Scalar in its finalizer, which a GC on another thread can run while libtorch reads it (CONTRIBUTING.md, 'TorchSharp Scalars').";

    public static readonly DiagnosticDescriptor ImplicitScalar = new(
        "HARN0001",
        "Temporary TorchSharp Scalar from a conversion",
        "The conversion of '{0}' to TorchSharp.Scalar creates a temporary Scalar: {1}" + Why,
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsafeApi = new(
        "HARN0002",
        "TorchSharp API creates a temporary Scalar",
        "'{0}' creates a temporary Scalar inside TorchSharp: {1}" + Why,
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnownedToScalar = new(
        "HARN0003",
        "ToScalar() result not owned by a using",
        "The Scalar from '{0}' is not kept alive: declare it 'using var s = value.ToScalar();' and pass s" + Why,
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>The generated list (scripts/torchsharp-scalars): documentation-comment ids of the APIs HARN0002 flags.</summary>
    public static readonly ImmutableHashSet<string> Apis = LoadApis();

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => ImmutableArray.Create(ImplicitScalar, UnsafeApi, UnownedToScalar);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var scalar = start.Compilation.GetTypeByMetadataName("TorchSharp.Scalar");
            if (scalar is null) return;   // no TorchSharp: nothing to check
            start.RegisterOperationAction(c => AnalyzeConversion(c, scalar), OperationKind.Conversion);
            start.RegisterOperationAction(c => AnalyzeInvocation(c, scalar), OperationKind.Invocation);
            start.RegisterOperationAction(c => Check(c, ((IBinaryOperation)c.Operation).OperatorMethod, null), OperationKind.Binary);
            start.RegisterOperationAction(c => Check(c, ((ICompoundAssignmentOperation)c.Operation).OperatorMethod, null), OperationKind.CompoundAssignment);
            start.RegisterOperationAction(c => Check(c, ((IUnaryOperation)c.Operation).OperatorMethod, null), OperationKind.Unary);
            start.RegisterOperationAction(c => Check(c, ((IObjectCreationOperation)c.Operation).Constructor, null), OperationKind.ObjectCreation);
            start.RegisterOperationAction(c =>
            {
                var p = (IPropertyReferenceOperation)c.Operation;
                Check(c, IsWrite(p) ? p.Property.SetMethod : p.Property.GetMethod, null);
            }, OperationKind.PropertyReference);
        });
    }

    private static void AnalyzeConversion(OperationAnalysisContext c, INamedTypeSymbol scalar)
    {
        var conv = (IConversionOperation)c.Operation;
        if (conv.OperatorMethod is not { } op || !SymbolEqualityComparer.Default.Equals(op.ContainingType, scalar)) return;
        if (!SymbolEqualityComparer.Default.Equals(op.ReturnType, scalar) || IsOwned(conv)) return;
        var operand = conv.Operand;
        var text = operand.Syntax.ToString();
        var advice = operand.ConstantValue.HasValue
            ? $"write Scalars.Of({FormatConstant(operand.ConstantValue.Value)})"
            : $"declare 'using var s = ({text}).ToScalar();' and pass s (Scalars.Of for a constant written in the code)";
        c.ReportDiagnostic(Diagnostic.Create(ImplicitScalar, conv.Syntax.GetLocation(), operand.Type?.ToDisplayString() ?? text, advice));
    }

    private static void AnalyzeInvocation(OperationAnalysisContext c, INamedTypeSymbol scalar)
    {
        var inv = (IInvocationOperation)c.Operation;
        var m = inv.TargetMethod;
        if (m.ContainingType?.ToDisplayString() == "TorchSharp.ScalarExtensionMethods" && m.Name.StartsWith("ToScalar", StringComparison.Ordinal)
            && SymbolEqualityComparer.Default.Equals(m.ReturnType, scalar) && !IsOwned(inv))
        {
            c.ReportDiagnostic(Diagnostic.Create(UnownedToScalar, inv.Syntax.GetLocation(), inv.Syntax.ToString()));
            return;
        }
        Check(c, m, inv);
    }

    private static void Check(OperationAnalysisContext c, IMethodSymbol? method, IInvocationOperation? inv)
    {
        if (method is null || !InTorchSharp(method)) return;
        var id = Id(method);
        if (id is not null && Apis.Contains(id))
        {
            c.ReportDiagnostic(Diagnostic.Create(UnsafeApi, c.Operation.Syntax.GetLocation(), Display(method), SafeAlternative(id)));
            return;
        }
        // module.call(x) / module.forward(x) through a base type: the forward that runs is the receiver's.
        if (inv?.Instance?.Type is INamedTypeSymbol receiver && method.Name is "call" or "forward")
        {
            for (var t = receiver; t is not null; t = t.BaseType)
            {
                if (!InTorchSharp(t)) continue;
                var forward = t.GetMembers("forward").OfType<IMethodSymbol>()
                    .FirstOrDefault(f => !f.IsAbstract && f.Parameters.Length == method.Parameters.Length);
                if (forward is null) continue;
                var fid = Id(forward);
                if (fid is not null && Apis.Contains(fid))
                    c.ReportDiagnostic(Diagnostic.Create(UnsafeApi, c.Operation.Syntax.GetLocation(), Display(forward), SafeAlternative(fid)));
                return;
            }
        }
    }

    /// <summary>A Scalar that a <c>using</c> owns, that is returned, or stored in a field or property, is rooted.</summary>
    private static bool IsOwned(IOperation op)
    {
        var parent = op.Parent;
        while (parent is IConversionOperation or IParenthesizedOperation) parent = parent.Parent;
        switch (parent)
        {
            case IReturnOperation:
                return true;
            case ISimpleAssignmentOperation a when a.Target is IFieldReferenceOperation or IPropertyReferenceOperation:
                return true;
            case IVariableInitializerOperation init:
                var decl = init.Parent is IVariableDeclaratorOperation d ? d.Parent : init.Parent;
                if (decl?.Parent is IVariableDeclarationGroupOperation group) decl = group;
                for (var up = decl; up is not null; up = up.Parent)
                {
                    if (up is IUsingDeclarationOperation or IUsingOperation) return true;
                    if (up is IBlockOperation) break;
                }
                // A field initializer (static readonly Scalar X = 1.ToScalar()) roots it too.
                return init is IFieldInitializerOperation || init.Parent is IFieldInitializerOperation;
            case IFieldInitializerOperation or IPropertyInitializerOperation:
                return true;
            default:
                return false;
        }
    }

    /// <summary>The documentation-comment id as the list writes it: without the '~return type' Roslyn adds to operators.</summary>
    private static string? Id(IMethodSymbol m)
    {
        var id = DocumentationCommentId.CreateDeclarationId(m.OriginalDefinition);
        var tilde = id?.IndexOf('~') ?? -1;
        return tilde > 0 ? id!.Substring(0, tilde) : id;
    }

    private static bool IsWrite(IPropertyReferenceOperation p) =>
        p.Parent is ISimpleAssignmentOperation a && a.Target == p || p.Parent is ICompoundAssignmentOperation ca && ca.Target == p;

    private static bool InTorchSharp(ISymbol s) => s.ContainingAssembly?.Name == "TorchSharp";

    private static string Display(IMethodSymbol m) => m.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat);

    private static string FormatConstant(object? v) => v switch
    {
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) is var r && (r.Contains(".") || r.Contains("E")) ? r : r + ".0",
        float f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "f",
        int or long or short or byte or sbyte => v + "L",
        bool b => b ? "true" : "false",
        _ => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "<constant>",
    };

    /// <summary>What to write instead, for the members HArnESS meets; the rest get the general rule.</summary>
    internal static string SafeAlternative(string id)
    {
        const string T = "TorchSharp.torch.Tensor";
        if (id == $"M:{T}.op_Addition({T},{T})" || id == $"M:{T}.add({T})" || id == $"M:TorchSharp.torch.add({T},{T})")
            return "write a.add(b, Scalars.One)";
        if (id == $"M:{T}.add_({T})" || id == $"M:TorchSharp.torch.add_({T},{T})") return "write a.add_(b, Scalars.One)";
        if (id == $"M:{T}.add(TorchSharp.Scalar)" || id == $"M:{T}.op_Addition({T},TorchSharp.Scalar)" || id == $"M:{T}.op_Addition(TorchSharp.Scalar,{T})")
            return "write x.add(s, Scalars.One)";
        if (id == $"M:{T}.add_(TorchSharp.Scalar)") return "write x.add_(s, Scalars.One)";
        if (id.StartsWith($"M:{T}.op_Addition(", StringComparison.Ordinal)) return "write x.add(Scalars.Of(c), Scalars.One) (or a 'using' ToScalar() local for a run-time value)";
        if (id.StartsWith($"M:{T}.op_Subtraction({T},", StringComparison.Ordinal)) return "write x.sub(Scalars.Of(c)) (or a 'using' ToScalar() local for a run-time value)";
        if (id.StartsWith($"M:{T}.op_Subtraction(", StringComparison.Ordinal)) return "write x.neg().add(Scalars.Of(c), Scalars.One) for c - x";
        if (id.StartsWith($"M:{T}.op_Multiply(", StringComparison.Ordinal)) return "write x.mul(Scalars.Of(c)) (or a 'using' ToScalar() local for a run-time value)";
        if (id.StartsWith($"M:{T}.op_Division({T},", StringComparison.Ordinal)) return "write x.div(Scalars.Of(c)) (or a 'using' ToScalar() local for a run-time value)";
        if (id.StartsWith($"M:{T}.op_Division(", StringComparison.Ordinal)) return "write x.reciprocal().mul(Scalars.Of(c)) for c / x (what libtorch computes for a scalar numerator)";
        if (id.StartsWith($"M:{T}.op_Modulus(", StringComparison.Ordinal)) return "write x.remainder(Scalars.Of(c))";
        if (id == $"M:{T}.square" || id == $"M:TorchSharp.torch.square({T})") return "write x.pow(Scalars.Of(2L)) (what square() runs)";
        if (id.StartsWith($"M:{T}.addcdiv", StringComparison.Ordinal)) return "pass the value explicitly: addcdiv(t1, t2, Scalars.One)";
        if (id.StartsWith("M:TorchSharp.torch.arange(", StringComparison.Ordinal)) return "write torch.arange(start, stop, step) with all three as Scalars (Scalars.Of(0L), n local, Scalars.One)";
        if (id.StartsWith("M:TorchSharp.Modules.", StringComparison.Ordinal) && id.Contains(".step("))
            return "use HArnESS.Training's optimizers (HArnESS.Training.AdamW), which keep their Scalars alive";
        if (id.Contains("vector_norm") || id.Contains("matrix_norm")) return "compose the norm from safe calls (x.mul(x).sum(dims).sqrt() for ord 2) or pass rooted Scalars";
        return "compose it from calls that take rooted Scalars (Scalars.Of / a 'using' ToScalar() local)";
    }

    private static ImmutableHashSet<string> LoadApis()
    {
        using var stream = typeof(ScalarLifetimeAnalyzer).Assembly.GetManifestResourceStream("TorchSharpScalarApis.txt")
            ?? throw new InvalidOperationException("TorchSharpScalarApis.txt is not embedded in HArnESS.Analyzers");
        using var reader = new StreamReader(stream);
        var set = ImmutableHashSet.CreateBuilder<string>(StringComparer.Ordinal);
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            line = line.Trim();
            if (line.Length > 0 && line[0] != '#') set.Add(line);
        }
        return set.ToImmutable();
    }
}
