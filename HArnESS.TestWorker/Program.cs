using HArnESS.TestWorker;

return args[0] switch { "train" => TrainVerb.Run(args[1..]), _ => Usage() };

static int Usage()
{
    Console.Error.WriteLine("usage: HArnESS.TestWorker <verb> [options]; verbs: train (see TrainVerb).");
    return 2;
}
