namespace HArnESS.Notebooks.Tests;

/// <summary>What each notebook's cells must have shown, beyond running without errors.</summary>
internal static class NotebookExpectations
{
    public static void Check(string notebook, IReadOnlyList<CellResult> cells)
    {
        var output = string.Concat(cells.Select(c => c.StandardOutput));
        switch (notebook)
        {
            default:
                Assert.That(output, Is.Not.Empty, $"{notebook} printed nothing");
                break;
        }
    }
}
