// Runs a DistilHuBERT-style distillation job as a Microsoft.Extensions.Hosting background service: a tiny
// 1-layer student with prediction heads learns a tiny 2-layer teacher's layers 1 and 2 on data/demo, through the
// HArnESS trainer with RegressionLoss (L1 + -log sigmoid(cos)), checkpoints in the output folder and Resume = Auto.
// Ctrl+C (SIGINT) stops at the next step boundary, after writing a checkpoint; run it again and it resumes there.
// Usage: dotnet run --project samples/DistillationHost -c Release [-- --steps 60 --out runs/distillation-host
//        --device auto|cpu|cuda:0 --teacher PATH --data data/demo]   (or the "Distillation" section of appsettings.json)
using HArnESS.DependencyInjection;
using HArnESS.Distillation.DependencyInjection;
using HArnESS.Runtime;
using HArnESS.Samples.DistillationHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddCommandLine(args, new Dictionary<string, string>
{
    ["--steps"] = "Distillation:Steps", ["--out"] = "Distillation:Output", ["--device"] = "Distillation:Device",
    ["--teacher"] = "Distillation:Teacher", ["--data"] = "Distillation:Data", ["--checkpoint-every"] = "Distillation:CheckpointEvery",
    ["--batch-size"] = "Distillation:BatchSize",
});
builder.Logging.ClearProviders().AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });

var job = builder.Configuration.GetSection("Distillation").Get<JobSettings>() ?? new JobSettings();
job = job with { Data = job.Data ?? JobSettings.FindDemo(), Output = Path.GetFullPath(job.Output) };
builder.Services.AddSingleton(job);
builder.Services.AddHArness(h => h
    .Runtime(o => o with { Device = ComputeDevice.Parse(job.Device), Seed = 1 })
    .Trainer(o => o with
    {
        MaxSteps = job.Steps,
        LearningRate = 2e-3,
        CheckpointDirectory = Path.Combine(job.Output, "checkpoints"),
        CheckpointEvery = job.CheckpointEvery,
        Resume = HArnESS.Training.ResumeMode.Auto,
        LogEvery = 1,
    }));
builder.Services.AddHArnessDistillation();
builder.Services.AddHostedService<DistillationWorker>();

using var host = builder.Build();
await host.RunAsync();
return Environment.ExitCode;
