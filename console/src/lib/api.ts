// Typed clients of the services' versioned HTTP APIs (through nginx, same origin).
import { buildQuery } from './router';
import { request, seg } from './http';
import type { PipelineHealth } from './pipeline';

// ---------------------------------------------------------------- manage
export interface Host {
  hostId: string;
  location: string;
  description: string;
  labels: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}
export type LivenessState = 'reporting' | 'silent' | 'unregistered' | 'deletedButReporting';
export interface HostLiveness {
  hostId: string;
  state: LivenessState;
  location: string | null;
  lastSeenAt: string | null;
  silentSince: string | null;
  deletedAt: string | null;
}
export interface Liveness {
  windowSeconds: number;
  evaluatedAt: string;
  hosts: HostLiveness[];
}
export interface ServiceInstance {
  kind: string;
  instanceId: string;
  grpcUrl: string | null;
  httpUrl: string | null;
  adminUrl: string | null;
  version: string | null;
  startedAt: string | null;
  leaseAlive: boolean;
  leaseId: number;
  goneAt: string | null;
  key: string;
}
export interface Me {
  name: string;
  role: string;
}

const M = '/api/v1/manage';
export const manage = {
  /** Every host (follows nextCursor). */
  async hosts(signal?: AbortSignal): Promise<Host[]> {
    const all: Host[] = [];
    let cursor: string | undefined;
    do {
      const page = await request<{ items: Host[]; nextCursor: string | null }>(`${M}/hosts${buildQuery({ limit: 5000, cursor })}`, { signal });
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return all;
  },
  host: (hostId: string, signal?: AbortSignal) => request<Host>(`${M}/hosts/${seg(hostId)}`, { signal }),
  createHost: (h: { hostId: string; location: string; description?: string; labels?: Record<string, string> }) =>
    request<Host>(`${M}/hosts`, { method: 'POST', body: h }),
  liveness: (signal?: AbortSignal) => request<Liveness>(`${M}/liveness`, { signal }),
  notManaged: (signal?: AbortSignal) => request<{ hosts: HostLiveness[] }>(`${M}/not-managed-hosts`, { signal }),
  services: (signal?: AbortSignal) => request<{ synced: boolean; instances: ServiceInstance[] }>(`${M}/services`, { signal }),
  pipelineHealth: (signal?: AbortSignal) => request<PipelineHealth>(`${M}/pipeline/health`, { signal }),
  login: (username: string, password: string) =>
    request<void>(`${M}/auth/login`, { method: 'POST', body: { username, password }, noAuthRedirect: true }),
  logout: () => request<void>(`${M}/auth/logout`, { method: 'POST', noAuthRedirect: true }),
  me: () => request<Me>(`${M}/auth/me`, { noAuthRedirect: true }),
};

// ---------------------------------------------------------------- analyze
export interface Point {
  time: string;
  value: number;
}
export interface SeriesItem {
  hostId: string;
  labels: Record<string, string>;
  points: Point[];
}
export interface SeriesAnswer {
  metric: string;
  resolution: string;
  step: string | null;
  start: string;
  end: string;
  truncated: boolean;
  series: SeriesItem[];
}
export interface SeriesQuery {
  start: string;
  end: string;
  step?: string;
  fn?: string;
  labels?: Record<string, string>;
}

const A = '/api/v1/analyze';
function seriesParams(q: SeriesQuery): string {
  let s = buildQuery({ start: q.start, end: q.end, step: q.step, function: q.fn });
  for (const [k, v] of Object.entries(q.labels ?? {})) s += `${s ? '&' : '?'}label=${encodeURIComponent(`${k}=${v}`)}`;
  return s;
}
/** Columnar records of one host (GET .../chart): one shared time axis and one value column per label set. */
export interface ChartAnswer {
  metric: string;
  resolution: string;
  step: string | null;
  start: string;
  end: string;
  truncated: boolean;
  timesUnixMs: number[];
  series: { hostId: string; labels: Record<string, string>; values: (number | null)[] }[];
}

export const analyze = {
  hostChart: (hostId: string, metric: string, q: SeriesQuery, signal?: AbortSignal) =>
    request<ChartAnswer>(`${A}/hosts/${seg(hostId)}/metrics/${seg(metric)}/chart${seriesParams(q)}`, { signal }),
  metrics: (hostId: string, signal?: AbortSignal) => request<{ hostId: string; metrics: string[] }>(`${A}/hosts/${seg(hostId)}/metrics`, { signal }),
  hostSeries: (hostId: string, metric: string, q: SeriesQuery, signal?: AbortSignal) =>
    request<SeriesAnswer>(`${A}/hosts/${seg(hostId)}/metrics/${seg(metric)}/series${seriesParams(q)}`, { signal }),
  latest: (metric: string, signal?: AbortSignal) =>
    request<{ metric: string; hosts: { hostId: string; time: string; value: number }[] }>(`${A}/metrics/${seg(metric)}/latest`, { signal }),
};

// ---------------------------------------------------------------- warning
export interface Bands {
  info?: number | null;
  warning?: number | null;
  critical?: number | null;
}
export interface RuleSpec {
  name: string;
  kind: string;
  metric: string;
  labelFilter: Record<string, string>;
  scope: { kind: string; value?: string | null };
  acrossHosts: boolean;
  aggregation: string;
  windowSeconds: number;
  comparator: string;
  bands: Bands;
  consecutiveBreaches: number;
  forSeconds: number;
  recoveryThreshold: number | null;
  channels: string[];
  enabled: boolean;
  noDataAfterSeconds: number;
  notifyOnResolve: boolean;
  repeatIntervalSeconds: number;
}
export interface Rule {
  id: number;
  version: number;
  updatedAt: string;
  spec: RuleSpec;
}
export interface Alert {
  id: number;
  ruleId: number;
  ruleVersion: number;
  ruleName: string;
  hostId: string;
  metric: string;
  comparator: string;
  severity: string;
  state: string;
  value: number;
  threshold: number;
  breachingValues: number[];
  windowStart: string;
  windowEnd: string;
  consecutiveCount: number;
  consecutiveNeeded: number;
  firedAt: string;
  resolvedAt: string | null;
  resolvedValue: number | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
}
export interface Notification {
  id: number;
  alertId: number;
  channel: string;
  kind: string;
  status: string;
  createdAt: string;
  silenceId: number | null;
}
export interface PushLog {
  id: number;
  notificationId: number;
  alertId: number;
  channel: string;
  channelType: string;
  kind: string;
  payloadDigest: string;
  status: string;
  reply: string;
  attempts: number;
  latencyMs: number;
  error: string | null;
  at: string;
}
export interface Channel {
  name: string;
  type: string;
  enabled: boolean;
  hasUrl: boolean;
  hasSecret: boolean;
  smtpHost: string | null;
  smtpPort: number;
  smtpUser: string | null;
  hasSmtpPassword: boolean;
  smtpUseTls: boolean;
  emailFrom: string | null;
  emailTo: string[];
  template: string | null;
  updatedAt: string;
}
export interface ChannelRequest {
  name: string;
  type: string;
  url?: string;
  secret?: string;
  smtpHost?: string;
  smtpPort?: number;
  smtpUser?: string;
  smtpPassword?: string;
  smtpUseTls?: boolean;
  emailFrom?: string;
  emailTo?: string[];
  template?: string;
  enabled: boolean;
}
export interface Silence {
  id: number;
  ruleId: number | null;
  hostId: string | null;
  location: string | null;
  startsAt: string;
  endsAt: string;
  comment: string;
}
export interface SilenceRequest {
  ruleId?: number | null;
  hostId?: string | null;
  location?: string | null;
  startsAt?: string | null;
  endsAt?: string | null;
  comment?: string;
}

const W = '/api/v1/warning';
export const warning = {
  rules: (signal?: AbortSignal) => request<Rule[]>(`${W}/rules`, { signal }),
  rule: (id: number, signal?: AbortSignal) => request<Rule>(`${W}/rules/${id}`, { signal }),
  ruleVersions: (id: number, signal?: AbortSignal) => request<Rule[]>(`${W}/rules/${id}/versions`, { signal }),
  createRule: (spec: RuleSpec) => request<Rule>(`${W}/rules`, { method: 'POST', body: spec }),
  updateRule: (id: number, spec: RuleSpec) => request<Rule>(`${W}/rules/${id}`, { method: 'PUT', body: spec }),
  deleteRule: (id: number) => request<void>(`${W}/rules/${id}`, { method: 'DELETE' }),
  alerts: (q: { state?: string; hostId?: string; ruleId?: number; limit?: number; cursor?: string }, signal?: AbortSignal) =>
    request<{ items: Alert[]; nextCursor: string | null }>(`${W}/alerts${buildQuery(q)}`, { signal }),
  alert: (id: number, signal?: AbortSignal) =>
    request<{ alert: Alert; notifications: Notification[]; pushLog: PushLog[] }>(`${W}/alerts/${id}`, { signal }),
  ack: (id: number) => request<Alert>(`${W}/alerts/${id}/ack`, { method: 'POST', body: {} }),
  channels: (signal?: AbortSignal) => request<Channel[]>(`${W}/channels`, { signal }),
  saveChannel: (c: ChannelRequest, existing: boolean) =>
    existing ? request<Channel>(`${W}/channels/${seg(c.name)}`, { method: 'PUT', body: c }) : request<Channel>(`${W}/channels`, { method: 'POST', body: c }),
  deleteChannel: (name: string) => request<void>(`${W}/channels/${seg(name)}`, { method: 'DELETE' }),
  testChannel: (name: string) =>
    request<{ channel: string; status: string; reply: string; attempts: number; latencyMs: number; error: string | null }>(
      `${W}/channels/${seg(name)}/test`,
      { method: 'POST', body: {} },
    ),
  pushLog: (q: { channel?: string; alertId?: number; limit?: number }, signal?: AbortSignal) =>
    request<{ items: PushLog[]; nextCursor: string | null }>(`${W}/push-log${buildQuery(q)}`, { signal }),
  silences: (all: boolean, signal?: AbortSignal) => request<Silence[]>(`${W}/silences${all ? '?active=false' : ''}`, { signal }),
  createSilence: (s: SilenceRequest) => request<Silence>(`${W}/silences`, { method: 'POST', body: s }),
  deleteSilence: (id: number) => request<void>(`${W}/silences/${id}`, { method: 'DELETE' }),
  /** The firing alerts a silence draft would match now (the warning service's own matching); nothing is stored. */
  silencePreview: (s: SilenceRequest, signal?: AbortSignal) => request<Alert[]>(`${W}/silences/preview`, { method: 'POST', body: s, signal }),
};

/** Every firing alert (follows the cursor, at most `max`). */
export async function firingAlerts(signal?: AbortSignal, max = 5000): Promise<Alert[]> {
  const all: Alert[] = [];
  let cursor: string | undefined;
  do {
    const page = await warning.alerts({ state: 'firing', limit: 1000, cursor }, signal);
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && all.length < max);
  return all;
}
