import { describe, expect, it } from 'vitest';
import { figureLabel, figureRows, formatFigure, orderedStages, verdict, type PipelineHealth, type StageHealth } from './pipeline';

const stage = (s: string, status: StageHealth['status'], figures: Record<string, number> = {}, reasons: string[] = []): StageHealth => ({
  stage: s,
  kind: s,
  status,
  instances: status === 'down' ? 0 : 1,
  reasons,
  figures,
});
const health = (stages: StageHealth[]): PipelineHealth => ({
  healthy: stages.every((s) => s.status === 'ok'),
  behind: stages.filter((s) => s.status !== 'ok').map((s) => s.stage),
  generatedAt: '2026-11-23T10:00:00Z',
  registrySynced: true,
  stages,
  instances: [],
});

describe('pipeline verdict', () => {
  it('is healthy when every stage is ok', () => {
    const v = verdict(health([stage('ingest', 'ok'), stage('persistence', 'ok')]));
    expect(v.level).toBe('ok');
    expect(v.title).toBe('Pipeline healthy');
  });
  it('names the stage that is behind', () => {
    const v = verdict(health([stage('ingest', 'ok'), stage('alerting', 'behind'), stage('persistence', 'ok')]));
    expect(v.level).toBe('behind');
    expect(v.title).toBe('Pipeline behind');
    expect(v.detail).toBe('Not healthy: alerting (behind).');
  });
  it('takes the worst status and lists stages in pipeline order', () => {
    const v = verdict(health([stage('alerting', 'behind'), stage('persistence', 'failing'), stage('ingest', 'down')]));
    expect(v.level).toBe('down');
    expect(v.detail).toBe('Not healthy: ingest (down), persistence (failing), alerting (behind).');
  });
  it('never calls an unhealthy answer healthy, even with an unknown status', () => {
    const h = health([stage('ingest', 'ok')]);
    h.stages[0].status = 'exploded' as StageHealth['status'];
    h.healthy = false;
    expect(verdict(h).level).toBe('failing');
    const onlyFlag = health([stage('ingest', 'ok')]);
    onlyFlag.healthy = false;
    onlyFlag.behind = ['ingest'];
    expect(verdict(onlyFlag)).toMatchObject({ level: 'failing', detail: 'Not healthy: ingest.' });
  });
});

describe('pipeline stages and figures', () => {
  it('orders stages the way data flows, unknown stages last', () => {
    const names = orderedStages([stage('manage', 'ok'), stage('zeta', 'ok'), stage('ingest', 'ok'), stage('alerting', 'ok'), stage('persistence', 'ok')]).map((s) => s.stage);
    expect(names).toEqual(['ingest', 'persistence', 'alerting', 'manage', 'zeta']);
  });
  it('formats figures by their unit suffix', () => {
    expect(formatFigure('influxWriteAvgMs', 12.5)).toBe('12.5 ms');
    expect(formatFigure('evaluationLagSeconds', 4.5)).toBe('4.5 s');
    expect(formatFigure('electedPassAgeSeconds', 185)).toBe('3 min');
    expect(formatFigure('consumerLag', 25000)).toBe('25 k');
    expect(formatFigure('consumerLag', Number.NaN)).toBe('—');
  });
  it('labels known figures in words and spells out unknown ones', () => {
    expect(figureLabel('evaluationLagSeconds')).toBe('rule-evaluation lag');
    expect(figureLabel('someNewFigure2x')).toBe('some new figure2x');
  });
  it('highlights failure counters above zero only', () => {
    const rows = figureRows(stage('persistence', 'failing', { consumerLag: 5, writeFailures: 3, deadLettered: 0 }));
    expect(rows.map((r) => [r.key, r.bad])).toEqual([
      ['consumerLag', false],
      ['writeFailures', true],
      ['deadLettered', false],
    ]);
    expect(rows[1]).toMatchObject({ label: 'InfluxDB write failures', value: '3' });
  });
});
