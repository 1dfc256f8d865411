namespace ImagePromotion.Bench;

/// <summary>What the figures were measured on; the load average matters on a shared machine.</summary>
public static class MachineInfo
{
    public static async Task<Machine> ReadAsync(string repo, CancellationToken ct)
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var memKb = File.ReadLines("/proc/meminfo").Where(l => l.StartsWith("MemTotal:")).Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1])).FirstOrDefault();
        async Task<string> Try(string file, params string[] args)
        {
            try { return (await TimedProcess.RunCheckedAsync(file, args, ct, repo)).Trim(); }
            catch (Exception) { return "unknown"; }
        }
        var skopeo = (await Try("skopeo", "--version")).Replace("skopeo version ", "");
        var registry = (await Try("docker-registry", "--version")).Split('\n')[0];
        return new Machine(cpu, Environment.ProcessorCount, memKb / 1024, (await Try("uname", "-sr")), Environment.Version.ToString(),
            skopeo, registry, await Try("git", "rev-parse", "--short=12", "HEAD"));
    }

    public static string Load() => string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}
