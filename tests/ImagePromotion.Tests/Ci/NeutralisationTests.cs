using ImagePromotion.Ci;
using ImagePromotion.Logging;

namespace ImagePromotion.Tests.Ci;

/// <summary>The pieces of "untrusted text never acts": log-line neutralisation, the choke-point writer, Markdown escaping.</summary>
[TestFixture]
public sealed class NeutralisationTests
{
    [TestCase("::add-mask::secret", "·::add-mask::secret")]
    [TestCase("   \t::stop-commands::x", "·   \t::stop-commands::x")]
    [TestCase("text ::notice::not at the start", "text ::notice::not at the start")]
    [TestCase("see ##[add-mask]x", "see ## [add-mask]x")]
    [TestCase("plain", "plain")]
    public void A_line_that_the_runner_would_read_as_a_command_is_neutralised(string line, string expected)
    {
        Assert.That(LogText.NeutraliseLine(line), Is.EqualTo(expected));
        Assert.That(LogText.NeutraliseLine(expected), Is.EqualTo(expected), "idempotent");
    }

    [Test]
    public void Every_physical_line_is_neutralised_whatever_ends_it()
    {
        var text = "ok\n::a::1\r::b::2\r\n::c::3";
        Assert.That(LogText.Neutralise(text), Is.EqualTo("ok\n·::a::1\r·::b::2\r\n·::c::3"));
    }

    [Test]
    public void Inline_and_quoted_values_cannot_break_the_line()
    {
        Assert.That(LogText.Inline("a\nb\rc\td\u001be\u2028f"), Is.EqualTo(@"a\nb\rc\td\ee\u2028f"));
        Assert.That(LogText.Quote("say \"hi\"\n"), Is.EqualTo("\"say \\\"hi\\\"\\n\""));
    }

    [Test]
    public void The_writer_neutralises_lines_written_in_pieces_and_leaves_ours_alone()
    {
        var raw = new StringWriter();
        var safe = new CommandSafeWriter(raw);
        safe.Write(":");
        safe.Flush();                           // ":" could still become "::": held
        Assert.That(raw.ToString(), Is.Empty);
        safe.Write(":add-mask::x\nfine ");
        safe.Flush();                           // "fine " can no longer become a command: written
        safe.Write("#");
        safe.Flush();                           // "#" could become "##[": held
        safe.Write("#[error]y\r\n  ::group::z\n");
        Assert.That(raw.ToString(), Is.EqualTo("·::add-mask::x\nfine ## [error]y\r\n·  ::group::z\n"));
    }

    [Test]
    public void Markdown_from_untrusted_text_stays_text()
    {
        Assert.That(MarkdownText.Escape("[Approved](https://evil.example) <img src=x> *b* |cell|\n# heading"),
            Is.EqualTo(@"\[Approved\]\(https://evil.example\) \<img src=x\> \*b\* \|cell\| \# heading"));
        Assert.That(MarkdownText.Escape("- item"), Is.EqualTo(@"\- item"));
        Assert.That(MarkdownText.Code("a`b"), Is.EqualTo("``a`b``"));
        Assert.That(MarkdownText.Code("`x"), Is.EqualTo("`` `x ``"));
        Assert.That(MarkdownText.Url("javascript:alert(1)"), Is.Null);
        Assert.That(MarkdownText.Link("https://ci.example/run (1)"), Does.StartWith(@"[https://ci.example/run \(1\)](https://ci.example/run%20%281%29)"));
    }
}
