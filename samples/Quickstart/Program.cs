using HArnESS.Runtime;

var info = HArnessRuntime.Initialize();
Console.WriteLine($"HArnESS runtime: {info}");
