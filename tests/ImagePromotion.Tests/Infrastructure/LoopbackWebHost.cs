using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImagePromotion.Tests.Infrastructure;

/// <summary>
/// A Kestrel server on 127.0.0.1 with an OS-assigned port that sends every request to one delegate.
/// The fixtures (token server, fault proxy, blob storage) are all single-handler servers, so routing
/// would only add noise.
/// </summary>
public sealed class LoopbackWebHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackWebHost(WebApplication app, Uri baseUri) { _app = app; BaseUri = baseUri; }

    /// <summary><c>http://127.0.0.1:PORT/</c></summary>
    public Uri BaseUri { get; }

    /// <summary><c>127.0.0.1:PORT</c></summary>
    public string Host => BaseUri.Authority;

    public static async Task<LoopbackWebHost> StartAsync(RequestDelegate handler, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k =>
        {
            // Blob uploads through the proxy can be large; the default 30 MB cap would fail them.
            k.Limits.MaxRequestBodySize = null;
            k.AddServerHeader = false;
        });
        var app = builder.Build();
        app.Run(handler);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
            .Addresses.Single();
        return new LoopbackWebHost(app, new Uri(address.Replace("[::]", "127.0.0.1") + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try { await _app.StopAsync(cts.Token); } catch (OperationCanceledException) { }
        await _app.DisposeAsync();
    }
}
