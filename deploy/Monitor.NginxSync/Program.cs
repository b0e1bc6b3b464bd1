using Monitor.NginxSync;

// monitor-nginx-sync: keeps an nginx upstream block equal to the instances registered in etcd.
//   --etcd http://127.0.0.1:2379  --prefix /monitor/services/report/  --upstream report_pool
//   --out <file included by nginx.conf>  [--reload "<command run after the file changed>"]
//   [--extra "keepalive 32;"]
var options = SyncOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine(SyncOptions.Usage);
    return 2;
}
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
using var sync = new UpstreamSync(options);
await sync.RunAsync(stop.Token);
return 0;
