using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Transport;
using ImagePromotion.Tests.Gates;
using Spectre.Console;

namespace ImagePromotion.Tests.Output;

/// <summary>Where escape codes and a live display may go, escape stripping at the output choke point, and the live display's drawing.</summary>
public sealed class TerminalTests
{
    private static Dictionary<string, string?> Env(params (string, string?)[] pairs) => pairs.ToDictionary(p => p.Item1, p => p.Item2);

    [Test]
    public void Escapes_only_on_a_terminal_without_NO_COLOR_and_a_live_display_only_outside_CI()
    {
        Assert.That(TerminalOutput.Detect(Env(("TERM", "xterm-256color")), outputRedirected: true), Is.EqualTo(new TerminalOutput(false, false)), "a pipe, whatever TERM says");
        Assert.That(TerminalOutput.Detect(Env(("TERM", "xterm"), ("NO_COLOR", "1")), outputRedirected: false), Is.EqualTo(new TerminalOutput(false, false)));
        Assert.That(TerminalOutput.Detect(Env(("TERM", "dumb")), outputRedirected: false), Is.EqualTo(new TerminalOutput(false, false)));
        Assert.That(TerminalOutput.Detect(Env(("TERM", "xterm"), ("NO_COLOR", "")), outputRedirected: false), Is.EqualTo(new TerminalOutput(true, true)), "an empty NO_COLOR does not count (no-color.org)");
        Assert.That(TerminalOutput.Detect(Env(("TERM", "xterm"), ("GITHUB_ACTIONS", "true")), outputRedirected: false), Is.EqualTo(new TerminalOutput(true, false)));
    }

    [Test]
    public void The_output_choke_point_strips_escape_codes_when_told_and_still_neutralises_commands()
    {
        var inner = new StringWriter();
        var writer = new CommandSafeWriter(inner) { StripEscapes = true };

        writer.Write("\x1b[41m\x1b[37;1mError: \x1b[0mboom\x1b]0;title\x07\n");
        writer.Write("\x1b[1m::error::owned\x1b[0m\n");

        Assert.That(inner.ToString(), Is.EqualTo("Error: boom\n" + LogText.CommandGuard + "::error::owned\n"));
        Assert.That(LogText.StripEscapes("plain text"), Is.SameAs("plain text"));
    }

    [Test]
    public void Cakes_Spectre_console_gets_no_ansi_colours_or_interaction_off_a_terminal()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.Yes, ColorSystem = ColorSystemSupport.TrueColor, Out = new AnsiConsoleOutput(new StringWriter()) });

        new TerminalOutput(Escapes: false, LiveDisplay: false).Configure(console);
        var output = new StringWriter();
        console.Profile.Out = new AnsiConsoleOutput(output);
        console.Write(new Markup("[bold white on red]Status[/]"));

        Assert.That(console.Profile.Capabilities.Ansi, Is.False);
        Assert.That(console.Profile.Capabilities.ColorSystem, Is.EqualTo(ColorSystem.NoColors));
        Assert.That(console.Profile.Capabilities.Interactive, Is.False);
        Assert.That(output.ToString(), Is.EqualTo("Status"));
    }

    [Test]
    public void A_long_copy_gets_a_live_bar_in_binary_units_and_untrusted_text_is_never_markup()
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.Yes, Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 160;
        var clock = FixedClock.At("2026-11-30T08:00:00Z");
        var events = new TransferEvents();
        const string destination = "registry.example.com/team/[red]app[/]:v1";
        using (var display = new LiveTransferDisplay(console, clock))
        using (events.Subscribe(display))
        {
            events.Publish(new CopyStarted("src", destination, 2, 300L << 20));
            events.Publish(new CopyProgress(destination, 10L << 20, 300L << 20, 15 << 20));
            Assert.That(display.Showing, Is.False, "a copy gets a bar only once it has run a while");
            Assert.That(display.TryWriteLine("not shown yet"), Is.False, "the host prints such lines itself");

            clock.Now += LiveTransferDisplay.ShowAfter;
            events.Publish(new CopyProgress(destination, 120L << 20, 300L << 20, 15 << 20));
            Assert.That(display.Showing, Is.True);
            Assert.That(display.TryWriteLine("blob sha256:1a2b [bold]finished[/]"), Is.True);
            events.Publish(new CopyFinished(destination, 300L << 20, TimeSpan.FromSeconds(20), null));
            Assert.That(display.Showing, Is.False, "the display ends with the last long copy");
        }

        var text = output.ToString();
        Assert.That(text, Does.Contain("blob sha256:1a2b [bold]finished[/]"), "a log line is plain text, markup left as written");
        Assert.That(text, Does.Contain("[red]app[/]"), "the destination is shown as written, not read as markup");
        Assert.That(text, Does.Contain("of 300.0 MiB, 15.0 MiB/s"));
    }
}
