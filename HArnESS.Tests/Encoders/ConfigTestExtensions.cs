using HArnESS.Encoders;
using HArnESS.Modules;

namespace HArnESS.Tests.Encoders;

/// <summary>Short access to a CNN config's front-end section in assertions.</summary>
internal static class ConfigTestExtensions
{
    public static CnnFrontEndConfig Cnn(this SpeechEncoderConfig config) => (CnnFrontEndConfig)config.FrontEnd;
}
