using HArnESS.Runtime;
using TorchSharp;

var info = HArnessRuntime.Initialize();
Console.WriteLine($"HArnESS runtime: {info}");
if (args.Contains("--runtime-only"))
{
    using var check = torch.arange(1, 4).sum();
    Console.WriteLine($"sum={check.item<long>()}");
    return 0;
}
return 0;
