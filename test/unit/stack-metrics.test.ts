/**
 * The oldest-pending alarms only ever fire if they name the metric exactly as the monitor emits it:
 * same namespace, name and every dimension. This runs the monitor's publishing code and compares.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMetrics } from '#shared/clients.ts';
import { METRIC } from '#shared/metrics.ts';
import { publishQueueStats } from '#shared/review/queue.ts';
import { synthTemplate } from '../support/synth.ts';

interface Emf {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [key: string]: unknown;
}

/** Namespace, name and dimensions of every metric in EMF lines, as `ns/name{k=v,…}` sorted by key. */
function metricIds(lines: string[]): string[] {
  const ids: string[] = [];
  for (const line of lines) {
    if (!line.includes('"_aws"')) continue;
    const emf = JSON.parse(line) as Emf;
    for (const d of emf._aws.CloudWatchMetrics) {
      for (const set of d.Dimensions) {
        const dims = [...set].sort().map((k) => `${k}=${String(emf[k])}`);
        for (const m of d.Metrics) ids.push(`${d.Namespace}/${m.Name}{${dims.join(',')}}`);
      }
    }
  }
  return ids;
}

afterEach(() => vi.restoreAllMocks());

describe('queue metric alarms', () => {
  it('watch the metric the monitor publishes, dimension for dimension', () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
    // As functions/monitor.ts does: single metrics are written as soon as they are added.
    publishQueueStats(createMetrics('monitor'), { group: 'finance', depth: 3, oldestPendingAgeSeconds: 1200 });
    vi.restoreAllMocks();
    const emitted = metricIds(lines);

    const alarms = Object.values(synthTemplate().findResources('AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties as { Namespace?: string; MetricName?: string; Dimensions?: { Name: string; Value: unknown }[] })
      .filter((p) => p.MetricName === METRIC.oldestPendingAge && p.Dimensions?.some((d) => d.Value === 'finance'));
    expect(alarms).toHaveLength(1);
    const [alarm] = alarms;
    const dims = [...(alarm?.Dimensions ?? [])].sort((a, b) => (a.Name < b.Name ? -1 : 1)).map((d) => `${d.Name}=${String(d.Value)}`);
    expect(emitted).toContain(`${alarm?.Namespace}/${alarm?.MetricName}{${dims.join(',')}}`);
  });
});
