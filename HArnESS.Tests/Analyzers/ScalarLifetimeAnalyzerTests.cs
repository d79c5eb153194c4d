using System.Collections.Immutable;
using HArnESS.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using NUnit.Framework;
using TorchSharp;

namespace HArnESS.Tests.Analyzers;

/// <summary>
/// HARN0001-HARN0003 on small snippets compiled with Roslyn against the real TorchSharp.dll and HArnESS.Core
/// (for Scalars): each unsafe form is flagged at the right place, the safe forms are not.
/// </summary>
[TestFixture]
public sealed class ScalarLifetimeAnalyzerTests
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        var tpa = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return tpa.Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal)
                              || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Append(typeof(torch).Assembly.Location)
            .Append(typeof(HArnESS.Tensors.Scalars).Assembly.Location)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray();
    });

    private static IReadOnlyList<Diagnostic> Analyze(string body)
    {
        var source = "using System; using TorchSharp; using HArnESS.Tensors; using static TorchSharp.torch;\n"
                     + "public static class Snippet {\n" + body + "\n}\n";
        var tree = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest));
        var compilation = CSharpCompilation.Create("Snippet", [tree], References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.That(errors, Is.Empty, "the snippet must compile: " + string.Join("; ", errors));
        return compilation.WithAnalyzers([new ScalarLifetimeAnalyzer()])
            .GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult()
            .OrderBy(d => d.Location.SourceSpan.Start).ToList();
    }

    /// <summary>(id, the flagged source text) of each diagnostic.</summary>
    private static List<(string Id, string Text)> Flagged(string body) =>
        Analyze(body).Select(d => (d.Id, d.Location.SourceTree!.ToString().Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length))).ToList();

    [Test]
    public void ImplicitConversionsToScalarAreFlaggedAtTheConvertedValue()
    {
        var found = Flagged("""
            static Tensor F(Tensor x, Tensor m, double lr) {
                var a = x.mul(0.5);
                var b = x.masked_fill(m, 0);
                var c = x.add(x, lr);
                var d = x * 2.0f;
                return a.add(b, (Scalar)3.0).add(c, Scalars.One).add(d, Scalars.One);
            }
            """);
        Assert.That(found, Is.EqualTo(new[]
        {
            ("HARN0001", "0.5"), ("HARN0001", "0"), ("HARN0001", "lr"), ("HARN0002", "x * 2.0f"), ("HARN0001", "(Scalar)3.0"),
        }));
    }

    [Test]
    public void TensorPlusTensorAndTheOtherTemporaryCreatingApisAreFlagged()
    {
        var found = Flagged("""
            static Tensor F(Tensor a, Tensor b) {
                var s = a + b;
                var t = a.add(b);
                a.add_(b);
                var u = torch.add(a, b);
                var v = a.square();
                var w = a - b;
                var z = a.sub(b);
                return s.add(t, Scalars.One).add(u, Scalars.One).add(v, Scalars.One).add(w, Scalars.One).add(z, Scalars.One);
            }
            """);
        Assert.That(found.Select(f => f.Id), Is.All.EqualTo("HARN0002"));
        // a - b and a.sub(b) call libtorch's sub with no Scalar in TorchSharp 0.107: not flagged.
        Assert.That(found.Select(f => f.Text), Is.EqualTo(new[] { "a + b", "a.add(b)", "a.add_(b)", "torch.add(a, b)", "a.square()" }));
        var message = Analyze("static Tensor F(Tensor a, Tensor b) => a + b;").Single().GetMessage();
        Assert.That(message, Does.Contain("a.add(b, Scalars.One)"));
    }

    [Test]
    public void ModuleForwardIsCheckedThroughTheReceiversType()
    {
        var found = Flagged("""
            static Tensor F(Tensor x) {
                var softplus = nn.Softplus();
                var linear = nn.Linear(4, 4);
                return linear.call(softplus.call(x)).add(softplus.forward(x), Scalars.One);
            }
            """);
        Assert.That(found, Is.EqualTo(new[] { ("HARN0002", "softplus.call(x)"), ("HARN0002", "softplus.forward(x)") }));
    }

    [Test]
    public void ToScalarMustBeOwnedByAUsing()
    {
        var found = Flagged("""
            static readonly Scalar Half = 0.5.ToScalar();
            static Tensor F(Tensor x, double lr) {
                var loose = lr.ToScalar();
                var y = x.mul(lr.ToScalar());
                using var owned = lr.ToScalar();
                using (var s = (lr * 2).ToScalar()) { y = y.mul(s); }
                return y.mul(owned).mul(loose).mul(Half);
            }
            static Scalar Make(double v) => v.ToScalar();
            """);
        Assert.That(found, Is.EqualTo(new[] { ("HARN0003", "lr.ToScalar()"), ("HARN0003", "lr.ToScalar()") }));
        var spans = Analyze("static Tensor F(Tensor x, double lr) { var loose = lr.ToScalar(); return x.mul(lr.ToScalar()).mul(loose); }")
            .Select(d => d.Location.GetLineSpan().StartLinePosition.Character).ToList();
        Assert.That(spans, Has.Count.EqualTo(2));
    }

    [Test]
    public void TheSafeFormsGiveNoDiagnostic()
    {
        var found = Flagged("""
            static Tensor F(Tensor a, Tensor b, Tensor m, double lr) {
                using var s = lr.ToScalar();
                var c = a.add(b, Scalars.One).sub(b).mul(Scalars.Of(0.5)).masked_fill(m, Scalars.Of(0.0));
                c.add_(b, s);
                var d = a.mul(b).div(b).matmul(b.t());
                return c.add(d, Scalars.One).pow(Scalars.Of(2L));
            }
            """);
        Assert.That(found, Is.Empty);
    }

    [Test]
    public void EveryListedApiNamesARealTorchSharpMember()
    {
        var compilation = CSharpCompilation.Create("Probe", [], References.Value);
        var missing = ScalarLifetimeAnalyzer.Apis
            .Where(id => DocumentationCommentId.GetFirstSymbolForDeclarationId(id, compilation) is null).ToList();
        Assert.That(ScalarLifetimeAnalyzer.Apis, Has.Count.GreaterThan(100));
        Assert.That(ScalarLifetimeAnalyzer.Apis, Does.Contain("M:TorchSharp.torch.Tensor.op_Addition(TorchSharp.torch.Tensor,TorchSharp.torch.Tensor)"));
        Assert.That(missing, Is.Empty);
    }
}
