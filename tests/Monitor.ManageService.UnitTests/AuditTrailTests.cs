using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Monitor.ManageService.Access;
using Monitor.ServiceDefaults.Auth;
using Xunit;

namespace Monitor.ManageService.UnitTests;

public sealed class AuditTrailTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Actor_AuthenticatedRequest_IsThePrincipalName()
    {
        // Arrange
        var http = new DefaultHttpContext();
        new MonitorPrincipal("token:ci-editor", MonitorRole.Editor).AttachTo(http);

        // Act
        var actor = Trail(http).Actor;

        // Assert
        Assert.Equal("token:ci-editor", actor);
    }

    [Fact]
    public async Task Actor_LegacyEndpointAcceptedAnonymously_IsAnonymousLegacy()
    {
        // Arrange: what the seam attaches to a credential-less call of an original-system endpoint when allowed.
        var authorizer = new MonitorAuthorizer(new AllowAnonymousAuthenticator(),
            Microsoft.Extensions.Options.Options.Create(new AuthOptions { AllowAnonymousLegacy = true }));
        var (decision, principal) = await authorizer.AuthorizeAsync(null, new AuthRequirement(MonitorRole.Editor, Agent: false, Legacy: true), TestContext.Current.CancellationToken);
        var http = new DefaultHttpContext();
        principal!.AttachTo(http);

        // Act
        var actor = Trail(http).Actor;

        // Assert
        Assert.Equal(AuthDecision.Allowed, decision);
        Assert.Equal("anonymous-legacy", actor);
    }

    [Fact]
    public void Actor_RequestWithoutPrincipal_Anonymous_NoRequest_System()
    {
        Assert.Equal("anonymous", Trail(new DefaultHttpContext()).Actor);
        Assert.Equal(AuditTrail.SystemActor, Trail(null).Actor);
    }

    [Fact]
    public void Entry_TimeActorAndViews_ActorCutToTheColumn()
    {
        // Arrange
        var http = new DefaultHttpContext();
        new MonitorPrincipal("token:" + new string('n', 80), MonitorRole.Editor).AttachTo(http);
        var before = new HostAuditView("web-01", "rack-1", "", new Dictionary<string, string> { ["team"] = "a" });

        // Act
        var entry = Trail(http).Entry("update", "host", "web-01", before, before with { Location = "rack-2" });

        // Assert
        Assert.Equal(T0.UtcDateTime, entry.At);
        Assert.Equal(AccessDbContext.NameMaxLength, entry.Actor.Length);
        Assert.Equal("rack-1", JsonDocument.Parse(entry.Before!).RootElement.GetProperty("location").GetString());
        Assert.Equal("rack-2", JsonDocument.Parse(entry.After!).RootElement.GetProperty("location").GetString());
        Assert.Equal("a", JsonDocument.Parse(entry.After!).RootElement.GetProperty("labels").GetProperty("team").GetString());
    }

    [Fact]
    public void Entry_CreatedAndDeleted_HaveNoBeforeOrAfter()
    {
        var view = new HostAuditView("web-01", "", "", new Dictionary<string, string>());
        var created = Trail(null).Entry("create", "host", "web-01", null, view);
        var deleted = Trail(null).Entry("delete", "host", "web-01", view, null);
        Assert.Null(created.Before);
        Assert.NotNull(created.After);
        Assert.NotNull(deleted.Before);
        Assert.Null(deleted.After);
    }

    private static AuditTrail Trail(HttpContext? http) =>
        new(new HttpContextAccessor { HttpContext = http }, new FakeTimeProvider(T0));
}
