using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;

namespace Monitor.Prober.Targets;

/// <summary>
/// The agent's credentials as the manage stream needs them, bound from the same <c>Agent</c> keys
/// the report stream uses (<c>Agent:Token</c>, <c>Agent:TokenFile</c>, <c>Agent:CaCertificatePath</c>).
/// </summary>
public sealed class AgentCredentialsOptions
{
    /// <summary>Agent token, sent as <c>authorization: Bearer &lt;token&gt;</c>. The default is none.</summary>
    public string? Token { get; set; }

    /// <summary>File whose first line is the agent token; wins over <see cref="Token"/>. The default is none.</summary>
    public string? TokenFile { get; set; }

    /// <summary>PEM file of the CA that signed the servers' certificates (https addresses). The default is the system trust store.</summary>
    public string? CaCertificatePath { get; set; }
}

/// <summary>Channel and call headers for the manage service's target stream.</summary>
internal static class ManageChannel
{
    public static GrpcChannel Create(string address, AgentCredentialsOptions credentials)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingDelay = TimeSpan.FromSeconds(15),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
        };
        if (!string.IsNullOrEmpty(credentials.CaCertificatePath))
        {
            var authorities = new X509Certificate2Collection();
            authorities.ImportFromPemFile(credentials.CaCertificatePath);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                {
                    return false;
                }
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
                using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                return chain.Build(leaf);
            };
        }
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler });
    }

    /// <summary>The <c>authorization</c> header when a token is configured (read at each connect: a rotated token file is picked up).</summary>
    public static Metadata? Headers(AgentCredentialsOptions credentials)
    {
        string? token = null;
        if (!string.IsNullOrEmpty(credentials.TokenFile))
        {
            token = File.ReadLines(credentials.TokenFile).FirstOrDefault()?.Trim();
        }
        else if (!string.IsNullOrWhiteSpace(credentials.Token))
        {
            token = credentials.Token.Trim();
        }
        return string.IsNullOrEmpty(token) ? null : new Metadata { { "authorization", "Bearer " + token } };
    }
}
