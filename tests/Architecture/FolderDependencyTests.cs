using Failmail.Tests.EndToEnd;

namespace Failmail.Tests.Architecture;

// One shape (issue 12): no folder's namespace depends on one that depends back on it, so
// ports live with their consumers and shared syntax sits where both sides can see it.
public sealed class FolderDependencyTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void NoFolderDependsOnOneThatDependsBackOnIt()
    {
        var uses = FolderDependencies.Scan(TestPaths.RepoRoot);
        Assert.Contains("Smtp", uses.Keys);
        Assert.Contains("Maildir", uses["Smtp"].Keys);
        Assert.Empty(FolderDependencies.Cycles(uses));
    }

    [Fact]
    public void TheScanFindsACycleThroughAUsingARelativeNameOrAQualifiedName()
    {
        Write("Alpha/A.cs", "using Failmail.Beta;\nnamespace Failmail.Alpha;\nclass A { }\n");
        Write("Beta/B.cs", "namespace Failmail.Beta;\nclass B { Alpha.A? a; }\n");
        Write("Gamma/C.cs", "namespace Failmail.Gamma;\nclass C { Failmail.Delta.D? d; }\n");
        Write("Delta/D.cs", "namespace Failmail.Delta;\n// Gamma.C is only mentioned in a comment\nclass D { }\n");
        Write("tests/T.cs", "using Failmail.Alpha;\n");

        var uses = FolderDependencies.Scan(_dir);

        Assert.Equal(["Alpha <-> Beta: Alpha/A.cs | Beta/B.cs"], FolderDependencies.Cycles(uses));
        Assert.Equal(["Delta"], uses["Gamma"].Keys);
        Assert.Empty(uses["Delta"]);
        Assert.DoesNotContain("tests", uses.Keys);
    }

    private void Write(string relative, string text)
    {
        var path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
