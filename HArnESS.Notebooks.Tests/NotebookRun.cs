using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Documents.Jupyter;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;
using Microsoft.DotNet.Interactive.PackageManagement;

namespace HArnESS.Notebooks.Tests;

/// <summary>What one code cell produced: its printed text, its displayed values by MIME type, and its errors.</summary>
internal sealed record CellResult(int Index, string Code, string StandardOutput, IReadOnlyList<FormattedValue> Displayed, IReadOnlyList<string> Errors);

/// <summary>
/// Runs a notebook's code cells in order in one in-process .NET Interactive C# kernel, the way Polyglot Notebooks'
/// kernel does: <c>#r "nuget: ..."</c> / <c>#i</c> through <c>UseNugetDirective</c> (the
/// restored assemblies are added to the kernel), the kernel helpers (<c>display</c>, <c>HTML</c>) in scope.
/// </summary>
internal static class NotebookRun
{
    /// <summary>Code cells in notebook order (markdown cells are skipped).</summary>
    public static IReadOnlyList<string> CodeCells(string ipynbPath)
    {
        var document = Notebook.Parse(File.ReadAllText(ipynbPath), new KernelInfoCollection { new("csharp", languageName: "C#", aliases: ["c#", "C#"]) });
        return document.Elements
            .Where(e => e.KernelName is null or "csharp" or "C#" or "c#")
            .Select(e => e.Contents)
            .ToList();
    }

    /// <summary>Runs <paramref name="cells"/> one after the other; stops at the first cell that fails.</summary>
    public static async Task<IReadOnlyList<CellResult>> RunAsync(IReadOnlyList<string> cells, TimeSpan perCellTimeout)
    {
        using var kernel = new CSharpKernel()
            .UseNugetDirective((k, resolved) =>
            {
                k.AddAssemblyReferences(resolved.SelectMany(r => r.AssemblyPaths));
                return Task.CompletedTask;
            })
            .UseKernelHelpers();

        var results = new List<CellResult>();
        for (int i = 0; i < cells.Count; i++)
        {
            using var cts = new CancellationTokenSource(perCellTimeout);
            var result = await kernel.SendAsync(new SubmitCode(cells[i]), cts.Token);
            var cell = Collect(i, cells[i], result.Events);
            results.Add(cell);
            if (cell.Errors.Count > 0) break;
        }
        return results;
    }

    private static CellResult Collect(int index, string code, IReadOnlyList<KernelEvent> events)
    {
        var stdout = new System.Text.StringBuilder();
        var displayed = new List<FormattedValue>();
        var errors = new List<string>();
        foreach (var e in events)
        {
            switch (e)
            {
                case StandardOutputValueProduced o:
                    foreach (var v in o.FormattedValues.Where(v => v.MimeType == "text/plain")) stdout.Append(v.Value);
                    break;
                case DisplayedValueProduced or ReturnValueProduced or DisplayedValueUpdated:
                    displayed.AddRange(((DisplayEvent)e).FormattedValues);
                    break;
                case StandardErrorValueProduced err:
                    // Written to stderr, not a failure in itself (restore progress, warnings); kept for the message.
                    foreach (var v in err.FormattedValues.Where(v => v.MimeType == "text/plain")) stdout.Append("[stderr] ").Append(v.Value);
                    break;
                case DiagnosticsProduced d:
                    errors.AddRange(d.Diagnostics.Where(x => x.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error).Select(x => $"{x.Code} {x.LinePositionSpan}: {x.Message}"));
                    break;
                case CommandFailed f:
                    errors.Add(f.Message + (f.Exception is null ? "" : Environment.NewLine + f.Exception));
                    break;
            }
        }
        return new CellResult(index, code, stdout.ToString(), displayed, errors.Distinct().ToList());
    }
}
