namespace Monitor.Prober.Probes;

/// <summary>
/// One configured check. <see cref="RunAsync"/> should honour the token, but the runner does not
/// rely on it: <see cref="ProbeRunner"/> abandons a run that outlives the target's timeout.
/// </summary>
internal interface IProbe
{
    /// <summary>Runs the check once. Expected failures are returned, not thrown.</summary>
    Task<ProbeResult> RunAsync(CancellationToken cancellationToken);
}
