using Monitor.Prober.Probes;
using Monitor.Prober.Targets;

namespace Monitor.Prober.Scheduling;

/// <summary>
/// Runs every enabled target on its own interval, each on its own loop, and follows the target
/// store: a new target starts at once; an edit takes effect at the target's next run (an
/// interval change moves that run) and never interrupts a probe already running; a paused or
/// deleted target runs no more after its current run. An invalid definition from a source is
/// logged (by field, no values) and skipped; the previous definition keeps running.
/// </summary>
internal sealed partial class ProbeScheduler(
    TargetStore store,
    IProbeFactory factory,
    ProbeRunner runner,
    ResultEmitter emitter,
    TimeProvider timeProvider,
    ILogger<ProbeScheduler> logger) : BackgroundService
{
    private readonly Dictionary<string, TargetLoop> _loops = new(StringComparer.Ordinal);
    private readonly ProbeRunner _runner = runner;
    private readonly ResultEmitter _emitter = emitter;
    private readonly TimeProvider _timeProvider = timeProvider;
    private readonly ILogger _logger = logger;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                var (targets, _, changed) = store.Snapshot();
                Apply(targets, stoppingToken);
                await changed.WaitAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var loop in _loops.Values)
            {
                loop.Stop();
            }
            await Task.WhenAll(_loops.Values.Select(l => l.Completion)).ConfigureAwait(false);
            foreach (var loop in _loops.Values)
            {
                loop.Dispose();
            }
        }
    }

    /// <summary>The definition a target's loop currently follows, or null without a loop (for tests and diagnostics).</summary>
    internal TargetDefinition? TargetOf(string name)
    {
        lock (_loops)
        {
            return _loops.TryGetValue(name, out var loop) ? loop.Target : null;
        }
    }

    /// <summary>Names of the targets with a running loop (for tests and diagnostics).</summary>
    internal IReadOnlyCollection<string> Running
    {
        get
        {
            lock (_loops)
            {
                return _loops.Keys.ToList();
            }
        }
    }

    private void Apply(IReadOnlyList<TargetDefinition> targets, CancellationToken stoppingToken)
    {
        lock (_loops)
        {
            var wanted = targets.ToDictionary(t => t.Name, StringComparer.Ordinal);
            foreach (var name in _loops.Keys.Where(n => !wanted.ContainsKey(n)).ToList())
            {
                var loop = _loops[name];
                loop.Stop();
                _loops.Remove(name);
                _ = loop.Completion.ContinueWith(static (_, l) => ((TargetLoop)l!).Dispose(), loop, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
                Log.Removed(_logger, name);
            }
            foreach (var target in targets)
            {
                if (_loops.TryGetValue(target.Name, out var existing) && existing.Target.Fingerprint == target.Fingerprint)
                {
                    continue;
                }
                IProbe probe;
                try
                {
                    probe = factory.Create(target);
                }
                catch (ProbeConfigException ex)
                {
                    Log.Invalid(_logger, target.Name, ex.Message);
                    continue;
                }
                if (existing is not null)
                {
                    existing.Update(target, probe);
                    Log.Updated(_logger, target.Name, target.Type, target.Interval, target.Enabled);
                }
                else
                {
                    var loop = new TargetLoop(target, probe, this, stoppingToken);
                    _loops[target.Name] = loop;
                    Log.Added(_logger, target.Name, target.Type, target.Interval, target.Enabled);
                }
            }
        }
    }

    /// <summary>One target's run loop.</summary>
    private sealed class TargetLoop : IDisposable
    {
        private readonly ProbeScheduler _owner;
        private readonly CancellationTokenSource _stop = new();
        private readonly Lock _lock = new();
        private (TargetDefinition Target, IProbe Probe) _current;
        private CancellationTokenSource _wake = new();

        public TargetLoop(TargetDefinition target, IProbe probe, ProbeScheduler owner, CancellationToken stoppingToken)
        {
            _current = (target, probe);
            _owner = owner;
            Completion = Task.Run(() => RunAsync(stoppingToken), CancellationToken.None);
        }

        public Task Completion { get; }

        public TargetDefinition Target
        {
            get
            {
                lock (_lock)
                {
                    return _current.Target;
                }
            }
        }

        public void Update(TargetDefinition target, IProbe probe)
        {
            CancellationTokenSource wake;
            lock (_lock)
            {
                _current = (target, probe);
                wake = _wake;
                _wake = new();
            }
            wake.Cancel();
            wake.Dispose();
        }

        public void Dispose()
        {
            _stop.Dispose();
            lock (_lock)
            {
                _wake.Dispose();
            }
        }

        public void Stop()
        {
            lock (_lock)
            {
                if (!_stop.IsCancellationRequested)
                {
                    _stop.Cancel();
                }
            }
        }

        private async Task RunAsync(CancellationToken stoppingToken)
        {
            var time = _owner._timeProvider;
            long? lastStart = null;
            try
            {
                while (!_stop.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
                {
                    (TargetDefinition Target, IProbe Probe) current;
                    CancellationToken wake;
                    lock (_lock)
                    {
                        current = _current;
                        wake = _wake.Token;
                    }
                    var due = lastStart is null ? TimeSpan.Zero : current.Target.Interval - time.GetElapsedTime(lastStart.Value);
                    if (due > TimeSpan.Zero || !current.Target.Enabled)
                    {
                        using var waitCts = CancellationTokenSource.CreateLinkedTokenSource(wake, _stop.Token, stoppingToken);
                        try
                        {
                            await Task.Delay(current.Target.Enabled ? due : Timeout.InfiniteTimeSpan, time, waitCts.Token).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException)
                        {
                            // An edit, a stop or shutdown: look again.
                            continue;
                        }
                    }
                    lastStart = time.GetTimestamp();
                    var result = await _owner._runner.RunAsync(current.Probe, current.Target, stoppingToken).ConfigureAwait(false);
                    try
                    {
                        _owner._emitter.Emit(current.Target, result);
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
                    {
                        Log.EmitFailed(_owner._logger, current.Target.Name, ex);
                    }
                    if (result.Success)
                    {
                        Log.Succeeded(_owner._logger, current.Target.Name, result.Duration.TotalMilliseconds);
                    }
                    else
                    {
                        Log.Failed(_owner._logger, current.Target.Name, result.Failure, result.Message);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4601, EventName = "TargetAdded", Level = LogLevel.Information,
            Message = "Target {Target} ({Type}) added: every {Interval}, enabled {Enabled}")]
        public static partial void Added(ILogger logger, string target, string type, TimeSpan interval, bool enabled);

        [LoggerMessage(EventId = 4602, EventName = "TargetUpdated", Level = LogLevel.Information,
            Message = "Target {Target} ({Type}) changed: every {Interval}, enabled {Enabled}; takes effect at its next run")]
        public static partial void Updated(ILogger logger, string target, string type, TimeSpan interval, bool enabled);

        [LoggerMessage(EventId = 4603, EventName = "TargetRemoved", Level = LogLevel.Information,
            Message = "Target {Target} removed")]
        public static partial void Removed(ILogger logger, string target);

        [LoggerMessage(EventId = 4604, EventName = "TargetInvalid", Level = LogLevel.Warning,
            Message = "Target {Target} skipped, invalid definition: {Errors}")]
        public static partial void Invalid(ILogger logger, string target, string errors);

        [LoggerMessage(EventId = 4605, EventName = "ProbeSucceeded", Level = LogLevel.Debug,
            Message = "Target {Target}: ok in {DurationMs:0.#} ms")]
        public static partial void Succeeded(ILogger logger, string target, double durationMs);

        [LoggerMessage(EventId = 4606, EventName = "ProbeFailed", Level = LogLevel.Information,
            Message = "Target {Target}: failed ({Reason}): {Message}")]
        public static partial void Failed(ILogger logger, string target, ProbeFailure? reason, string message);

        [LoggerMessage(EventId = 4607, EventName = "EmitFailed", Level = LogLevel.Error,
            Message = "Target {Target}: could not spool the result")]
        public static partial void EmitFailed(ILogger logger, string target, Exception exception);
    }
}
