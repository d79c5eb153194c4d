namespace HArnESS.Downstream;

/// <summary>Marker for the HArnESS.Downstream assembly (used for assembly scanning and version reporting).</summary>
public static class DownstreamAssembly
{
    /// <summary>The informational version of this assembly.</summary>
    public static string Version => typeof(DownstreamAssembly).Assembly.GetName().Version?.ToString() ?? "unknown";
}
