using System.Diagnostics;
using ImagePromotion.GitOps.Manifests;

namespace ImagePromotion.Bench;

/// <summary>
/// S9: a GitOps repository of N workload manifests (one Deployment per service, each with its own image),
/// and the edit a promotion makes in it: one service's image pinned to a new digest, found by scanning the tree.
/// </summary>
public static class GitOpsEdit
{
    public const int EditedService = 1234;
    public const string NewDigest = "sha256:5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";

    public static string FileOf(int service) => Path.Combine("apps", $"svc-{service:0000}", "deployment.yaml");

    public static string Generate(string root, int count)
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        for (var i = 0; i < count; i++)
        {
            var path = Path.Combine(root, FileOf(i));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, $"""
                # svc-{i:0000}: owned by team-{i % 17}
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: svc-{i:0000}
                  labels: {"{"} app: svc-{i:0000}, tier: backend {"}"}
                spec:
                  replicas: 2
                  selector:
                    matchLabels:
                      app: svc-{i:0000}
                  template:
                    metadata:
                      labels:
                        app: svc-{i:0000}
                    spec:
                      containers:
                        - name: web
                          image: registry.example.com/team/svc-{i:0000}:1.0.{i % 7}
                          ports:
                            - containerPort: 8080
                          env:
                            - name: LOG_LEVEL
                              value: "info"
                        - name: sidecar
                          image: registry.example.com/platform/envoy:1.30.1
                """);
        }
        return root;
    }

    /// <summary>The measured process: edits the tree and prints the in-process time on a line starting with "edit:".</summary>
    public static async Task<int> RunAsync(string root)
    {
        var clock = Stopwatch.StartNew();
        var results = await new ManifestUpdater(root).UpdateTreeAsync(".", new ContainerImageTarget(),
            $"registry.example.com/team/svc-{EditedService:0000}@{NewDigest}", CancellationToken.None);
        var changed = results.Count(r => r.Changed);
        Console.WriteLine($"edit: {changed} file(s) changed in {clock.Elapsed.TotalMilliseconds:0} ms in-process");
        return changed == 1 ? 0 : 1;
    }
}
