using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImagePromotion.Tests.GitOps.Git;

/// <summary>
/// A real git HTTPS-style remote on loopback: Kestrel in front of <c>git http-backend</c> (git's own smart
/// HTTP CGI), guarded by Basic auth the way GitHub guards it (user x-access-token, password the token).
/// It records every Authorization header and request URL so tests can prove where the token travelled.
/// </summary>
internal sealed class GitSmartHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _projectRoot;
    private readonly string _expectedAuthorization;

    public ConcurrentQueue<string> RequestLines { get; } = new();
    public ConcurrentQueue<string?> AuthorizationHeaders { get; } = new();
    public string BaseUrl { get; private set; } = "";

    private GitSmartHttpServer(string projectRoot, string user, string token)
    {
        _projectRoot = projectRoot;
        _expectedAuthorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + token));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    public static async Task<GitSmartHttpServer> StartAsync(string projectRoot, string user, string token)
    {
        var server = new GitSmartHttpServer(projectRoot, user, token);
        await server._app.StartAsync();
        server.BaseUrl = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return server;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        RequestLines.Enqueue(request.Method + " " + request.Path + request.QueryString);
        var authorization = request.Headers.Authorization.ToString();
        AuthorizationHeaders.Enqueue(authorization.Length == 0 ? null : authorization);
        if (authorization != _expectedAuthorization)
        {
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"GitHub\"";
            return;
        }

        var psi = new ProcessStartInfo("git")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("http-backend");
        psi.Environment["GIT_PROJECT_ROOT"] = _projectRoot;
        psi.Environment["GIT_HTTP_EXPORT_ALL"] = "1";
        psi.Environment["REMOTE_USER"] = "x-access-token";
        psi.Environment["REMOTE_ADDR"] = "127.0.0.1";
        psi.Environment["REQUEST_METHOD"] = request.Method;
        psi.Environment["PATH_INFO"] = request.Path.Value;
        psi.Environment["QUERY_STRING"] = request.QueryString.HasValue ? request.QueryString.Value![1..] : "";
        psi.Environment["CONTENT_TYPE"] = request.ContentType ?? "";
        if (request.Headers.TryGetValue("Content-Encoding", out var encoding)) psi.Environment["HTTP_CONTENT_ENCODING"] = encoding.ToString();
        if (request.Headers.TryGetValue("Git-Protocol", out var protocol)) psi.Environment["GIT_PROTOCOL"] = protocol.ToString();

        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await request.Body.CopyToAsync(process.StandardInput.BaseStream);
        process.StandardInput.Close();

        // CGI: header lines, a blank line, then the body.
        var output = process.StandardOutput.BaseStream;
        var header = new List<byte>();
        while (true)
        {
            var b = output.ReadByte();
            if (b < 0) break;
            header.Add((byte)b);
            var n = header.Count;
            if (n >= 2 && header[n - 1] == '\n' && (header[n - 2] == '\n' || (n >= 4 && header[n - 2] == '\r' && header[n - 3] == '\n'))) break;
        }
        foreach (var line in Encoding.ASCII.GetString(header.ToArray()).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = line.IndexOf(':');
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Status", StringComparison.OrdinalIgnoreCase)) context.Response.StatusCode = int.Parse(value.Split(' ')[0]);
            else context.Response.Headers.Append(name, value);
        }
        await output.CopyToAsync(context.Response.Body);
        await process.WaitForExitAsync();
        await stderr;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
