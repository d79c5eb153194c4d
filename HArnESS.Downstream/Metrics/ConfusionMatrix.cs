using System.Globalization;
using System.Text;

namespace HArnESS.Downstream.Metrics;

/// <summary>Counts of (true class, predicted class) pairs: row = truth, column = prediction, as sklearn's
/// <c>confusion_matrix</c>.</summary>
public sealed class ConfusionMatrix
{
    private readonly long[,] _counts;

    /// <summary>Counts the pairs.</summary>
    /// <param name="classes">Class names; class id = position.</param>
    /// <param name="truth">True class ids.</param>
    /// <param name="predicted">Predicted class ids, same length.</param>
    /// <exception cref="ArgumentException">No classes, no pairs, or the lists differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside <c>[0, classes)</c>; the message names its position.</exception>
    public ConfusionMatrix(IReadOnlyList<string> classes, IReadOnlyList<int> truth, IReadOnlyList<int> predicted)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(predicted);
        if (classes.Count == 0) throw new ArgumentException("At least one class is needed.", nameof(classes));
        if (truth.Count == 0) throw new ArgumentException("No predictions: classification metrics need at least one (truth, prediction) pair.", nameof(truth));
        if (truth.Count != predicted.Count)
            throw new ArgumentException($"Got {truth.Count} true labels but {predicted.Count} predictions; they must pair up.", nameof(predicted));
        Classes = classes.ToArray();
        _counts = new long[classes.Count, classes.Count];
        for (var i = 0; i < truth.Count; i++)
        {
            if ((uint)truth[i] >= (uint)classes.Count)
                throw new ArgumentOutOfRangeException(nameof(truth), truth[i], $"True label {i} is {truth[i]}, expected a class id in [0, {classes.Count}).");
            if ((uint)predicted[i] >= (uint)classes.Count)
                throw new ArgumentOutOfRangeException(nameof(predicted), predicted[i], $"Prediction {i} is {predicted[i]}, expected a class id in [0, {classes.Count}).");
            _counts[truth[i], predicted[i]]++;
        }
        Total = truth.Count;
    }

    /// <summary>Class names; class id = position.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Number of pairs counted.</summary>
    public long Total { get; }

    /// <summary>Pairs with truth <paramref name="truth"/> predicted as <paramref name="predicted"/>.</summary>
    public long this[int truth, int predicted] => _counts[truth, predicted];

    /// <summary>Number of true samples of a class (row sum).</summary>
    public long Support(int cls)
    {
        long s = 0;
        for (var j = 0; j < Classes.Count; j++) s += _counts[cls, j];
        return s;
    }

    /// <summary>Number of predictions of a class (column sum).</summary>
    public long Predicted(int cls)
    {
        long s = 0;
        for (var i = 0; i < Classes.Count; i++) s += _counts[i, cls];
        return s;
    }

    /// <summary>The counts as a jagged array, row = truth.</summary>
    public long[][] ToArray() =>
        Enumerable.Range(0, Classes.Count).Select(i => Enumerable.Range(0, Classes.Count).Select(j => _counts[i, j]).ToArray()).ToArray();

    /// <summary>A markdown table, rows = truth, columns = prediction.</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder("| truth \\ predicted |");
        foreach (var c in Classes) sb.Append(' ').Append(c).Append(" |");
        sb.Append('\n').Append("|---|").Append(string.Concat(Enumerable.Repeat("---|", Classes.Count))).Append('\n');
        for (var i = 0; i < Classes.Count; i++)
        {
            sb.Append("| ").Append(Classes[i]).Append(" |");
            for (var j = 0; j < Classes.Count; j++) sb.Append(' ').Append(_counts[i, j].ToString(CultureInfo.InvariantCulture)).Append(" |");
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
