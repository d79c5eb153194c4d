using System.Text;

namespace HArnESS.Downstream.Data;

internal static class DataFiles
{
    public static string[] ReadLines(string full, string what)
    {
        try
        {
            return File.ReadAllLines(full, Encoding.UTF8).Select(l => l.TrimEnd('\r')).ToArray();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new HArnessDataException($"Cannot read {what} '{full}': {ex.Message}", full, ex);
        }
    }

    public static string Shorten(string s) => s.Length <= 80 ? s : s[..77] + "...";
}
