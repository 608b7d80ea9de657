using System.Diagnostics;
using System.Text;
using Gateway.Tests.Support;
using Gateway.Web.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Clients;

/// <summary>
/// The official TypeScript SDK client's OAuth support against the gateway's own authorization server, end to end:
/// 401 → protected resource metadata → authorization server metadata → dynamic registration → PKCE authorization,
/// with Playwright's chromium doing the user's part on the console's sign-in page; then the client lists and calls
/// tools as that user, with that user's grants.
/// </summary>
public sealed class TypeScriptSdkOAuthTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const string Script = """
        import http from 'node:http';
        import { pathToFileURL } from 'node:url';
        const sdk = process.env.SDK_DIR;
        const { Client } = await import(pathToFileURL(`${sdk}/client/index.js`));
        const { StreamableHTTPClientTransport } = await import(pathToFileURL(`${sdk}/client/streamableHttp.js`));
        const { UnauthorizedError } = await import(pathToFileURL(`${sdk}/client/auth.js`));
        const [url, tool, rawArgs] = process.argv.slice(2);

        let gotCode;
        const code = new Promise((resolve) => { gotCode = resolve; });
        const callback = http.createServer((req, res) => {
          const u = new URL(req.url, 'http://127.0.0.1');
          if (u.pathname !== '/callback') { res.statusCode = 404; res.end(); return; }
          gotCode(u.searchParams.get('code'));
          res.end('signed in; you may close this page');
        });
        await new Promise((resolve) => callback.listen(0, '127.0.0.1', resolve));
        const redirectUrl = `http://127.0.0.1:${callback.address().port}/callback`;

        let info, tokens, verifier;
        const provider = {
          get redirectUrl() { return redirectUrl; },
          get clientMetadata() {
            return { client_name: 'TypeScript SDK (e2e)', redirect_uris: [redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
          },
          clientInformation: () => info,
          saveClientInformation: (i) => { info = i; },
          tokens: () => tokens,
          saveTokens: (t) => { tokens = t; },
          redirectToAuthorization: (u) => { console.log('AUTHORIZE ' + u.toString()); },
          saveCodeVerifier: (v) => { verifier = v; },
          codeVerifier: () => verifier,
        };

        const connect = async () => {
          const client = new Client({ name: 'ts-oauth-e2e', version: '1.0.0' });
          const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
          await client.connect(transport);
          return client;
        };

        let client;
        try {
          client = await connect();
        } catch (e) {
          if (!(e instanceof UnauthorizedError)) throw e;
          const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
          await transport.finishAuth(await code);
          client = await connect();
        }

        console.log('CLIENT ' + info.client_id);
        const { tools } = await client.listTools();
        console.log('TOOLS ' + tools.map((t) => t.name).sort().join(','));
        const result = await client.callTool({ name: tool, arguments: JSON.parse(rawArgs) });
        console.log('RESULT ' + JSON.stringify(result));
        await client.close();
        callback.close();
        """;

    [Fact]
    public async Task TheSdkClient_RegistersSignsInThroughTheConsole_AndCallsToolsWithTheUsersGrants()
    {
        await NodeTools.EnsureSharedDepsAsync();
        await using var gateway = await GatewayHost.StartAsync(Gateway.Tests.Web.Authentication.AuthorizationServerTests.Settings());
        await gateway.WaitForToolAsync("files__echo");
        await gateway.WaitForToolAsync("notes__echo");
        var (password, errors) = await gateway.Services.GetRequiredService<ConsoleAccounts>().CreateLocalAsync("ivy", "Ivy", ["Auditor"], TestContext.Timeout);
        Assert.Empty(errors);

        var script = Path.Combine(gateway.Directory, "oauth-client.mjs");
        await File.WriteAllTextAsync(script, Script);
        var start = new ProcessStartInfo("node", [script, gateway.McpUri.ToString(), "notes__echo", """{"message":"from the sdk"}"""])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["SDK_DIR"] = Path.Combine(SharedScripts.Directory, "node_modules", "@modelcontextprotocol", "sdk", "dist", "esm") },
        };
        using var node = Process.Start(start)!;
        var output = new StringBuilder();
        var authorize = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        node.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data?.StartsWith("AUTHORIZE ", StringComparison.Ordinal) == true)
            {
                authorize.TrySetResult(e.Data["AUTHORIZE ".Length..]);
            }
        };
        node.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        node.BeginOutputReadLine();
        node.BeginErrorReadLine();
        try
        {
            var url = await authorize.Task.WaitAsync(TestContext.Timeout);
            Assert.StartsWith(new Uri(gateway.BaseUri, "/oauth/authorize?").ToString(), url, StringComparison.Ordinal);
            Assert.Contains("code_challenge_method=S256", url, StringComparison.Ordinal);

            // The user's part: the console's sign-in page, the one-time password replaced, and back to the client.
            await using var context = await chromium.NewContextAsync(gateway.BaseUri);
            var page = await context.NewPageAsync();
            await page.GotoAsync(url);
            Assert.Equal("/login", new Uri(page.Url).AbsolutePath);
            await page.FillAsync("#userName", "ivy");
            await page.FillAsync("#password", password!);
            await page.ClickAsync("button[type=submit]");
            await ChromiumFixture.WaitForPathAsync(page, path => path == "/account/password", "the sign-in asks for a new password");
            await page.FillAsync("#current", password!);
            await page.FillAsync("#new", "ivy-password-of-tests");
            await page.FillAsync("#confirm", "ivy-password-of-tests");
            await page.ClickAsync("form:has(#current) button[type=submit]");

            // Asked once whether this client, which registered itself a moment ago, may act for ivy.
            await ChromiumFixture.WaitForPathAsync(page, path => path == "/oauth/consent", "the user is asked to allow the client");
            await Assertions.Expect(page.Locator("#consent-redirect")).ToContainTextAsync("http://127.0.0.1:");
            await page.ClickAsync("#consent-allow");
            await ChromiumFixture.WaitForPathAsync(page, path => path == "/callback", "the browser reaches the client's callback");
            await Assertions.Expect(page.Locator("body")).ToContainTextAsync("signed in");

            await node.WaitForExitAsync(TestContext.Timeout);
        }
        finally
        {
            if (!node.HasExited)
            {
                node.Kill(entireProcessTree: true);
            }
        }

        string text;
        lock (output)
        {
            text = output.ToString();
        }

        Assert.True(node.ExitCode == 0, text);

        // Ivy is an auditor: notes only, though the agent profile has files too.
        var tools = text.Split('\n').Single(l => l.StartsWith("TOOLS ", StringComparison.Ordinal))["TOOLS ".Length..].Trim().Split(',');
        Assert.Contains("notes__echo", tools);
        Assert.DoesNotContain(tools, t => t.StartsWith("files__", StringComparison.Ordinal));
        Assert.Contains("from the sdk", text, StringComparison.Ordinal);
        var clientId = text.Split('\n').Single(l => l.StartsWith("CLIENT ", StringComparison.Ordinal))["CLIENT ".Length..].Trim();
        Assert.Contains(
            await gateway.AuditTrailAsync(),
            e => e.Record.Kind == Gateway.Core.Audit.AuditKinds.ToolCall && e.Record.Actor == "oauth-agents for ivy" && e.Record.Outcome == Gateway.Core.Audit.AuditOutcomes.Ok);
        Assert.StartsWith("mcpgw-", clientId, StringComparison.Ordinal);
    }
}
