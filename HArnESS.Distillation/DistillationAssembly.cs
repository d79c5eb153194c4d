namespace HArnESS.Distillation;

/// <summary>Marker for the HArnESS.Distillation assembly (used for assembly scanning and version reporting).</summary>
public static class DistillationAssembly
{
    /// <summary>The informational version of this assembly.</summary>
    public static string Version => typeof(DistillationAssembly).Assembly.GetName().Version?.ToString() ?? "unknown";
}
