import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp, nextTick } from 'vue';
import PipelinePage from './PipelinePage.vue';
import type { PipelineHealth } from '../lib/pipeline';

// The page as rendered from a pipeline-health answer: verdict, stages in flow order, figures, failed polls.
const answer: PipelineHealth = {
  healthy: false,
  behind: ['alerting'],
  generatedAt: '2026-11-23T10:00:00Z',
  registrySynced: true,
  stages: [
    { stage: 'manage', kind: 'manage', status: 'ok', instances: 1, reasons: [], figures: {} },
    {
      stage: 'alerting',
      kind: 'warning',
      status: 'behind',
      instances: 2,
      reasons: ['rule evaluation lag 300 s: the newest sample evaluated is older than 120 s'],
      figures: { evaluationLagSeconds: 300, notificationFailures: 0 },
    },
    { stage: 'ingest', kind: 'report', status: 'ok', instances: 1, reasons: [], figures: { samplesRejected: 2, kafkaProduceAvgMs: 3.5 } },
  ],
  instances: [
    { kind: 'warning', instance: 'w1', httpUrl: 'http://127.0.0.1:1', ok: true, error: null },
    { kind: 'warning', instance: 'w2', httpUrl: 'http://127.0.0.1:2', ok: false, error: 'timed out' },
  ],
};

async function render(body: unknown, status = 200): Promise<{ el: HTMLElement; fetch: ReturnType<typeof vi.fn>; unmount: () => void }> {
  const fetch = vi.fn(async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': status === 200 ? 'application/json' : 'application/problem+json' } }));
  vi.stubGlobal('fetch', fetch);
  const el = document.createElement('div');
  const app = createApp(PipelinePage);
  app.mount(el);
  for (let i = 0; i < 10 && !el.querySelector('[data-testid="pipeline-verdict"], [data-state="error"]'); i++) {
    await new Promise((r) => setTimeout(r, 0));
    await nextTick();
  }
  return { el, fetch, unmount: () => app.unmount() };
}

afterEach(() => vi.unstubAllGlobals());

describe('Pipeline page', () => {
  it('shows the verdict, the stages in flow order and which one is behind', async () => {
    const { el, fetch, unmount } = await render(answer);
    expect(fetch.mock.calls[0][0]).toBe('/api/v1/manage/pipeline/health');
    const v = el.querySelector('[data-testid="pipeline-verdict"]')!;
    expect(v.getAttribute('data-level')).toBe('behind');
    expect(v.textContent).toContain('Pipeline behind');
    expect(v.textContent).toContain('alerting (behind)');
    const cards = [...el.querySelectorAll('[data-stage]')];
    expect(cards.map((c) => [c.getAttribute('data-stage'), c.getAttribute('data-status')])).toEqual([
      ['ingest', 'ok'],
      ['alerting', 'behind'],
      ['manage', 'ok'],
    ]);
    const alerting = cards[1];
    expect(alerting.textContent).toContain('2 live warning instances');
    expect(alerting.textContent).toContain('rule evaluation lag 300 s');
    expect(alerting.querySelector('[data-figure="evaluationLagSeconds"]')!.textContent).toContain('5 min');
    expect(cards[0].querySelector('[data-figure="samplesRejected"]')!.classList.contains('bad')).toBe(true);
    expect(cards[0].querySelector('[data-figure="kafkaProduceAvgMs"]')!.textContent).toContain('3.5 ms');
    expect(el.textContent).toContain('1 instance did not answer');
    expect(el.querySelector('[data-testid="pipeline-instances"]')!.textContent).toContain('timed out');
    unmount();
  });

  it('says healthy when every stage is ok', async () => {
    const ok: PipelineHealth = { ...answer, healthy: true, behind: [], stages: answer.stages.map((s) => ({ ...s, status: 'ok', reasons: [] })), instances: [] };
    const { el, unmount } = await render(ok);
    expect(el.querySelector('[data-testid="pipeline-verdict"]')!.getAttribute('data-level')).toBe('ok');
    expect(el.textContent).toContain('Pipeline healthy');
    unmount();
  });

  it('shows the server error', async () => {
    const { el, unmount } = await render({ title: 'Service Unavailable', detail: 'registry not loaded', status: 503 }, 503);
    expect(el.querySelector('[data-state="error"]')!.textContent).toContain('registry not loaded');
    expect(el.querySelector('[data-testid="pipeline-verdict"]')).toBeNull();
    unmount();
  });
});
