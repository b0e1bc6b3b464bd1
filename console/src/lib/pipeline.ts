// Pipeline health (GET /api/v1/manage/pipeline/health): the verdict and the per-stage figures as the Pipeline page
// shows them. Pure functions: unit-tested in pipeline.test.ts.
import { formatDuration, formatValue } from './format';

export type StageStatus = 'ok' | 'behind' | 'failing' | 'down';
export interface StageHealth {
  stage: string;
  kind: string;
  status: StageStatus;
  instances: number;
  reasons: string[];
  figures: Record<string, number>;
}
export interface InstancePoll {
  kind: string;
  instance: string;
  httpUrl: string | null;
  ok: boolean;
  error: string | null;
}
export interface PipelineHealth {
  healthy: boolean;
  behind: string[];
  generatedAt: string;
  registrySynced: boolean;
  stages: StageHealth[];
  instances: InstancePoll[];
}

/** The order data flows in (agents → ingest → Kafka → persistence/alerting), then the side stages. */
export const STAGE_ORDER = ['ingest', 'persistence', 'alerting', 'query', 'manage'] as const;

export const STAGE_TITLES: Record<string, string> = {
  ingest: 'Ingest (report)',
  persistence: 'Persistence (Kafka → InfluxDB)',
  alerting: 'Alerting (warning)',
  query: 'Query (analyze)',
  manage: 'Manage',
};

const RANK: Record<string, number> = { ok: 0, behind: 1, failing: 2, down: 3 };

/** How bad a status is (unknown statuses count as failing: never show them as healthy). */
export function statusRank(status: string): number {
  return RANK[status] ?? 2;
}

export interface Verdict {
  level: StageStatus;
  title: string;
  detail: string;
}

/** The one-line answer: healthy, or which stages are behind / failing / down (worst first, in pipeline order). */
export function verdict(h: PipelineHealth): Verdict {
  const bad = orderedStages(h.stages).filter((s) => s.status !== 'ok');
  if (bad.length === 0 && h.healthy) {
    return { level: 'ok', title: 'Pipeline healthy', detail: 'Every stage has live instances and nothing is behind.' };
  }
  const worst = bad.reduce((w, s) => Math.max(w, statusRank(s.status)), 0);
  const level: StageStatus = worst === 3 ? 'down' : worst === 1 ? 'behind' : 'failing';
  const title = level === 'behind' ? 'Pipeline behind' : level === 'down' ? 'Pipeline stage down' : 'Pipeline failing';
  const names = bad.length ? bad.map((s) => `${s.stage} (${s.status})`) : h.behind;
  return { level, title, detail: `Not healthy: ${names.join(', ')}.` };
}

/** Stages in pipeline order; stages the server adds later come last, by name. */
export function orderedStages(stages: StageHealth[]): StageHealth[] {
  const pos = (s: string) => {
    const i = (STAGE_ORDER as readonly string[]).indexOf(s);
    return i < 0 ? STAGE_ORDER.length : i;
  };
  return [...stages].sort((a, b) => pos(a.stage) - pos(b.stage) || a.stage.localeCompare(b.stage));
}

/** Names of the figures the server sends, in words; unknown ones are spelled out from their camelCase key. */
const FIGURE_LABELS: Record<string, string> = {
  samplesReceived: 'samples received',
  samplesAccepted: 'samples accepted',
  samplesRejected: 'samples rejected',
  batchesSaturated: 'batches refused (saturated)',
  inFlightBatches: 'batches in flight',
  kafkaProduceAvgMs: 'Kafka produce, average',
  consumerLag: 'consumer lag (messages)',
  writeFailures: 'InfluxDB write failures',
  deadLettered: 'dead-lettered',
  pointsWritten: 'points written',
  influxWriteAvgMs: 'InfluxDB write, average',
  lostBelowWatermark: 'lost below the watermark',
  evaluations: 'rule evaluations',
  notificationsSent: 'notifications sent',
  notificationFailures: 'notification failures',
  detectionLatencyAvgMs: 'detection latency, average',
  evaluationLagSeconds: 'rule-evaluation lag',
  electedPassAgeSeconds: 'elected evaluator: last pass',
};

/** Figures that are bad when above zero (shown highlighted). */
const BAD_WHEN_POSITIVE = new Set(['samplesRejected', 'batchesSaturated', 'writeFailures', 'deadLettered', 'lostBelowWatermark', 'notificationFailures']);

export function figureLabel(key: string): string {
  return FIGURE_LABELS[key] ?? key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}

/** A figure's value with its unit, from the key's suffix: …Ms → milliseconds, …Seconds → a duration. */
export function formatFigure(key: string, value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (key.endsWith('Ms')) return `${formatValue(value)} ms`;
  if (key.endsWith('Seconds')) return value < 60 ? `${formatValue(value)} s` : formatDuration(value * 1000);
  return formatValue(value);
}

export interface FigureRow {
  key: string;
  label: string;
  value: string;
  bad: boolean;
}

/** The stage's figures as rows, in the server's (sorted) order. */
export function figureRows(stage: StageHealth): FigureRow[] {
  return Object.entries(stage.figures ?? {}).map(([key, v]) => ({
    key,
    label: figureLabel(key),
    value: formatFigure(key, v),
    bad: BAD_WHEN_POSITIVE.has(key) && v > 0,
  }));
}
