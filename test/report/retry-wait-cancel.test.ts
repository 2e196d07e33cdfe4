/**
 * A job stopped while its retry waited (F4): its one attempt failed on its own and nothing was killed. The report
 * draws that attempt once (retried), busy time counts it once; JUnit does not say it was cancelled while running.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED_TIMEOUT_MS, poolrun, readJson, useTempDirs, waitFor, writeJobs } from '../helpers.js';
import { startPoolrun } from '../cli/failure-helpers.js';
import { attempts, reportData } from '../browser.js';

const temp = useTempDirs();

describe('cancelled while waiting for a retry', () => {
  it(
    'by SIGINT, SIGTERM or --deadline: one bar per attempt, busy time once, JUnit says it waited',
    async () => {
      for (const stop of ['SIGINT', 'SIGTERM', 'deadline'] as const) {
        const dir = temp();
        const marker = join(dir, 'failed-once');
        const jobs = writeJobs(dir, [
          { id: 'flaky', run: `sleep 0.3; touch ${marker}; exit 3` },
          { id: 'long', run: 'sleep 30' },
        ]);
        const [report, json, junit] = [join(dir, 'r.html'), join(dir, 'r.json'), join(dir, 'r.xml')];
        const args = ['-q', '-w', '2', '--retries', '2', '--retry-delay', '20s', '--kill-after', '200ms'];
        const outs = ['--report', report, '--json', json, '--junit', junit, jobs];
        let code: number;
        if (stop === 'deadline') code = (await poolrun([...args, '--deadline', '2s', ...outs])).code;
        else {
          const child = startPoolrun([...args, ...outs]);
          expect(await waitFor(() => existsSync(marker), 20_000)).toBe(true);
          await new Promise((r) => setTimeout(r, 500)); // the retry event is out; its delay runs
          child.kill(stop);
          code = (await child).exitCode ?? -1;
        }
        expect(code, stop).toBe({ SIGINT: 130, SIGTERM: 143, deadline: 124 }[stop]);
        const results = readJson(json).results;
        expect(results[0]).toMatchObject({ id: 'flaky', status: 'cancelled', attempts: 1, exitCode: 3 });
        const all = attempts(reportData(report));
        const flaky = all.filter((a) => a.id === 'flaky');
        expect(
          flaky.map((a) => [a.status, a.n, a.exit]),
          stop,
        ).toEqual([['retried', 1, 3]]);
        expect(all.filter((a) => a.id === 'long').map((a) => a.status)).toEqual(['cancelled']);
        const busy = all.reduce((s, a) => s + a.dur, 0);
        expect(busy).toBe(flaky[0]!.dur + all.find((a) => a.id === 'long')!.dur);
        const data = reportData(report) as unknown as { header?: { busyMs?: number } };
        if (data.header?.busyMs !== undefined) expect(data.header.busyMs).toBe(busy);
        const xml = readFileSync(junit, 'utf8');
        const skipped = [...xml.matchAll(/<testcase name="(\w+)"[^]*?<skipped message="([^"]*)"/g)].map(
          (m) => [m[1], m[2]],
        );
        expect(skipped, stop).toEqual([
          ['flaky', 'cancelled while waiting to retry (attempt 1: exit status 3)'],
          ['long', 'cancelled while running'],
        ]);
      }
    },
    GENERATED_TIMEOUT_MS,
  );
});
