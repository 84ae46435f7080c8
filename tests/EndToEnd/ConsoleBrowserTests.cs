using System.Text;
using Failmail.Tests.Relay;
using MailKit.Net.Smtp;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace Failmail.Tests.EndToEnd;

// Issue 15: the console in a real headless Chromium (Debian's chromium and chromium-driver,
// installed by test.sh) driven by Selenium, against the AOT binary. Screenshots go to
// tests/artifacts/ (ignored by git).
[Trait("Category", "EndToEnd")]
public sealed class ConsoleBrowserTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const string Hostile = "<script>window.pwned=1</script><img src=x onerror=window.pwned=2> disk";

    private static string Artifacts
    {
        get
        {
            var dir = Path.Combine(TestPaths.RepoRoot, "tests", "artifacts");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    private static async Task SendAsync(int port, string subject, int count)
    {
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None).WaitAsync(Patience);
        for (var i = 0; i < count; i++)
        {
            await client.SendAsync(PipelineTests.Alert(subject, $"body {i} of {subject}", "ops@example.com")).WaitAsync(Patience);
        }
        await client.DisconnectAsync(quit: true).WaitAsync(Patience);
    }

    private static ChromeDriver StartChromium(int width, int height)
    {
        var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", $"--window-size={width},{height}");
        return new ChromeDriver(service, options, Patience);
    }

    // Bounded: polls the page until the condition holds.
    private static async Task<T> WaitForAsync<T>(Func<T?> probe, string what)
        where T : class
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            try
            {
                if (probe() is { } found)
                {
                    return found;
                }
            }
            catch (WebDriverException)
            {
                // The table was re-rendered under us: look again.
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("waiting for " + what);
            }
            await Task.Delay(100);
        }
    }

    private static IWebElement? BatchRow(ChromeDriver driver, string subject) =>
        driver.FindElements(By.CssSelector("#batches tbody tr")).FirstOrDefault(r => r.Text.Contains(subject, StringComparison.Ordinal));

    private static void Screenshot(ChromeDriver driver, string name) =>
        driver.GetScreenshot().SaveAsFile(Path.Combine(Artifacts, name));

    [Fact]
    public async Task AnOperatorSeesAStormFlushesItAndSilencesTheNextMessage()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            await using var relay = new TestSmtpServer();
            await using var failmail = await FailmailProcess.StartServingAsync(Path.Combine(dir, "run"),
                "--relay-addr", relay.Address, "--fail-dir", "failed", "--wait-period", "5m", "--max-wait", "10m", "--poll", "1s",
                "--from", "failmail@test.example");
            await SendAsync(failmail.SmtpPort, "disk full on db1", 25);

            using var driver = StartChromium(1280, 800);
            driver.Navigate().GoToUrl($"http://127.0.0.1:{failmail.HttpPort}/ui/");

            // The storm: one batch holding all 25.
            var row = await WaitForAsync(() => BatchRow(driver, "disk full on db1") is { } r && r.FindElement(By.CssSelector(".batch-count")).Text == "25" ? r : null,
                "the storm's batch with its count");
            Assert.Contains("25 × disk full on db1", row.Text, StringComparison.Ordinal);
            Screenshot(driver, "console-storm.png");

            // Flush: the digest is relayed and shows in the history, and opens to its text.
            row.FindElement(By.CssSelector("button[data-testid=flush]")).Click();
            var mail = await relay.ReceiveAsync().WaitAsync(Patience);
            Assert.Contains("25 instances: disk full on db1", Encoding.UTF8.GetString(mail.Data), StringComparison.Ordinal);
            var digest = await WaitForAsync(() => driver.FindElements(By.CssSelector("#digests tbody tr"))
                .FirstOrDefault(r => r.Text.Contains("25 instances: disk full on db1", StringComparison.Ordinal)), "the digest in the history");
            digest.Click();
            var text = await WaitForAsync(() => driver.FindElement(By.Id("digest-text")) is { Displayed: true } t && t.Text.Contains("Total messages: 25", StringComparison.Ordinal) ? t : null,
                "the digest's text");
            Assert.Contains("body 24 of disk full on db1", text.Text, StringComparison.Ordinal);
            Assert.Null(BatchRow(driver, "disk full on db1"));
            Screenshot(driver, "console-digest.png");

            // Hostile content is text, never markup.
            await SendAsync(failmail.SmtpPort, Hostile, 1);
            var hostile = await WaitForAsync(() => BatchRow(driver, Hostile), "the hostile subject, as text");
            Assert.Empty(hostile.FindElements(By.TagName("script")));
            Assert.Empty(driver.FindElements(By.CssSelector("#batches img")));
            Assert.Null(driver.ExecuteScript("return window.pwned === undefined ? null : window.pwned;"));

            // A silence from the page: the next matching message is left out.
            hostile.FindElement(By.CssSelector("button[data-testid=silence]")).Click();
            Assert.Equal(Hostile, driver.FindElement(By.Id("silence-value")).GetDomProperty("value"));
            driver.FindElement(By.Id("silence-create")).Click();
            await WaitForAsync(() => driver.FindElements(By.CssSelector("#silences tbody tr")).FirstOrDefault(r => r.Text.StartsWith("active", StringComparison.Ordinal)),
                "the silence, active");
            await SendAsync(failmail.SmtpPort, Hostile, 1);
            await WaitForAsync(() => driver.FindElement(By.Id("status")).Text.Contains("1 silenced", StringComparison.Ordinal) ? "" : null, "the silenced count");
            await WaitForAsync(() => driver.FindElements(By.CssSelector("#digests tbody tr"))
                .FirstOrDefault(r => r.Text.Contains("silenced", StringComparison.Ordinal) && r.Text.Contains(Hostile, StringComparison.Ordinal)), "the silenced message in the history");
            var still = BatchRow(driver, Hostile);
            Assert.NotNull(still);
            Assert.Equal("1", still.FindElement(By.CssSelector(".batch-count")).Text);
            Assert.Null(driver.ExecuteScript("return window.pwned === undefined ? null : window.pwned;"));
            Screenshot(driver, "console.png");

            // Dark mode follows the system's preference.
            Assert.Equal("rgb(255, 255, 255)", driver.ExecuteScript("return getComputedStyle(document.body).backgroundColor;"));
            driver.ExecuteCdpCommand("Emulation.setEmulatedMedia", new Dictionary<string, object?>
            {
                ["features"] = new object[] { new Dictionary<string, object> { ["name"] = "prefers-color-scheme", ["value"] = "dark" } },
            });
            Assert.Equal("rgb(21, 23, 26)", driver.ExecuteScript("return getComputedStyle(document.body).backgroundColor;"));
            Screenshot(driver, "console-dark.png");

            // Phone width: the page still renders its sections.
            driver.Manage().Window.Size = new System.Drawing.Size(390, 844);
            Assert.True(driver.FindElement(By.Id("silence-create")).Displayed);
            Screenshot(driver, "console-phone.png");
            driver.Quit();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
