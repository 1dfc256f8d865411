using ImagePromotion.GitOps.Manifests;
using NUnit.Framework;

namespace ImagePromotion.Tests.GitOps.Manifests;

[TestFixture]
public sealed class UnifiedDiffTests
{
    private static string Numbered(int count, Func<int, string>? line = null) =>
        string.Concat(Enumerable.Range(1, count).Select(i => (line?.Invoke(i) ?? $"line {i}") + "\n"));

    [Test]
    public void Distant_changes_make_separate_hunks_with_three_lines_of_context()
    {
        var before = Numbered(30);
        var after = Numbered(30, i => i is 5 or 25 ? $"LINE {i}" : $"line {i}");
        Assert.That(UnifiedDiff.Create(before, after, "a/x", "b/x"), Is.EqualTo(
            "--- a/x\n+++ b/x\n" +
            "@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+LINE 5\n line 6\n line 7\n line 8\n" +
            "@@ -22,7 +22,7 @@\n line 22\n line 23\n line 24\n-line 25\n+LINE 25\n line 26\n line 27\n line 28\n"));
    }

    [Test]
    public void Close_changes_share_a_hunk_and_insertions_count_lines()
    {
        var before = Numbered(10);
        var after = Numbered(10, i => i == 3 ? "line 3\nnew a\nnew b" : i == 8 ? "LINE 8" : $"line {i}");
        Assert.That(UnifiedDiff.Create(before, after, "a/x", "b/x"), Is.EqualTo(
            "--- a/x\n+++ b/x\n" +
            "@@ -1,10 +1,12 @@\n line 1\n line 2\n line 3\n+new a\n+new b\n line 4\n line 5\n line 6\n line 7\n-line 8\n+LINE 8\n line 9\n line 10\n"));
    }

    [Test]
    public void A_missing_final_newline_is_marked_and_crlf_is_not_shown()
    {
        Assert.That(UnifiedDiff.Create("a\r\nb", "a\r\nc", "a/x", "b/x"), Is.EqualTo(
            "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"));
        Assert.That(UnifiedDiff.Create("a\nb", "a\nb\nc\n", "a/x", "b/x"), Is.EqualTo(
            "--- a/x\n+++ b/x\n@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n+b\n+c\n"));
    }

    [Test]
    public void Equal_texts_have_no_diff()
    {
        Assert.That(UnifiedDiff.Create("a\nb\n", "a\nb\n", "a/x", "b/x"), Is.Empty);
    }

    [Test]
    public void Additions_to_an_empty_file_start_at_zero()
    {
        Assert.That(UnifiedDiff.Create("", "a\n", "a/x", "b/x"), Is.EqualTo("--- a/x\n+++ b/x\n@@ -0,0 +1 @@\n+a\n"));
    }
}
