using ImagePromotion.Processes;

namespace ImagePromotion.Tests.Processes;

/// <summary>The module's one process runner: real child processes (sh, sleep), killed on timeout and on cancellation.</summary>
[TestFixture]
public sealed class ProcessRunnerTests
{
    private string _dir = null!;

    [SetUp]
    public void CreateDirectory() => _dir = Directory.CreateTempSubdirectory("runner-").FullName;

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task Arguments_go_through_as_a_list_and_output_exit_code_and_stdin_come_back()
    {
        var result = await ProcessRunner.RunAsync(new ProcessRequest("sh", ["-c", "printf '%s|' \"$0\" \"$1\"; cat; echo oops >&2; exit 3", "a b", "$HOME;rm"])
        {
            StandardInput = "from stdin",
        });

        Assert.That(result.ExitCode, Is.EqualTo(3));
        Assert.That(result.Output, Is.EqualTo("a b|$HOME;rm|from stdin"), "no shell splits or expands an argument");
        Assert.That(result.Error.Trim(), Is.EqualTo("oops"));
    }

    [Test]
    public async Task Environment_variables_are_set_and_a_null_value_removes_an_inherited_one()
    {
        var result = await ProcessRunner.RunAsync(new ProcessRequest("sh", ["-c", "echo \"${ADDED}/${PATH:+path}/${HOME:-nohome}\""])
        {
            Environment = new Dictionary<string, string?> { ["ADDED"] = "yes", ["HOME"] = null },
            WorkingDirectory = _dir,
        });

        Assert.That(result.Output.Trim(), Is.EqualTo("yes/path/nohome"));
    }

    [Test]
    public void A_missing_executable_is_a_one_line_error_naming_it()
    {
        var ex = Assert.ThrowsAsync<ProcessNotFoundException>(() => ProcessRunner.RunAsync(new ProcessRequest("no-such-tool-xyz", [])));
        Assert.That(ex!.Executable, Is.EqualTo("no-such-tool-xyz"));
        Assert.That(ex.Message, Does.StartWith("cannot start 'no-such-tool-xyz'").And.Contain("apt-get install no-such-tool-xyz"));
    }

    [Test]
    public async Task A_command_past_its_timeout_is_killed_with_its_children()
    {
        var pids = Path.Combine(_dir, "pids");
        var ex = Assert.ThrowsAsync<ProcessTimeoutException>(() => ProcessRunner.RunAsync(
            new ProcessRequest("sh", ["-c", "sleep 300 & echo $$ $! > \"$0\"; wait", pids]) { Timeout = TimeSpan.FromSeconds(1), Description = "slow tool" }));

        Assert.That(ex!.Message, Does.StartWith("slow tool did not finish within 1 s"));
        foreach (var pid in await PidsAsync(pids)) Assert.That(await GoneAsync(pid), Is.True, $"process {pid} still runs");
    }

    [Test]
    public async Task Cancellation_kills_the_child_and_its_children_and_surfaces_as_cancellation()
    {
        var pids = Path.Combine(_dir, "pids");
        using var cts = new CancellationTokenSource();
        var run = ProcessRunner.RunAsync(new ProcessRequest("sh", ["-c", "sleep 300 & echo $$ $! > \"$0\"; wait", pids]), ct: cts.Token);
        var started = await PidsAsync(pids);
        cts.Cancel();

        Assert.That(async () => await run, Throws.InstanceOf<OperationCanceledException>());
        foreach (var pid in started) Assert.That(await GoneAsync(pid), Is.True, $"process {pid} still runs");
    }

    /// <summary>The shell's and the sleeper's pids, once the shell has written them.</summary>
    private static async Task<int[]> PidsAsync(string file)
    {
        for (var i = 0; i < 200; i++)
        {
            if (File.Exists(file) && File.ReadAllText(file).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: 2 } parts)
                return parts.Select(int.Parse).ToArray();
            await Task.Delay(50);
        }
        throw new AssertionException($"{file} was never written");
    }

    /// <summary>True once the process no longer exists or is a zombie nobody reaped (a container's init may not).</summary>
    private static async Task<bool> GoneAsync(int pid)
    {
        for (var i = 0; i < 100; i++)
        {
            var stat = $"/proc/{pid}/stat";
            if (!File.Exists(stat)) return true;
            try
            {
                var text = File.ReadAllText(stat);
                if (text[(text.LastIndexOf(')') + 2)..].StartsWith('Z')) return true;
            }
            catch (IOException) { return true; }
            await Task.Delay(50);
        }
        return false;
    }
}
