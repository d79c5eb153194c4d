using HArnESS.TestWorker;

return args[0] switch { "encode" => EncodeVerb.Run(args[1..]), "train" => TrainVerb.Run(args[1..]), _ => Usage() };

static int Usage()
{
    Console.Error.WriteLine("usage: HArnESS.TestWorker <verb> args…  (verbs: encode, train)");
    return 2;
}
