/**
 * --report FILE.html: the timeline of a real run, opened in headless Chromium (Debian's). Each job's bars are
 * checked where a person sees them: at the centre of each bar, the page's topmost bar element must be of the
 * job's status and lie on its worker's lane, painted in the status's colour.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { pathToFileURL } from 'node:url';
import { poolrun, readJson, useTempDirs } from '../helpers.js';
import { startPoolrun, waitForPids } from '../cli/failure-helpers.js';
import { attempts, findChromium, launchChromium, openReport, reportData, type Browser } from '../browser.js';
import { startRedis, startWorker, type WorkerProcess } from '../redis.js';

const temp = useTempDirs('all');
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** The colour each status is painted in, as Chromium's computed style gives it. */
const COLORS: Record<string, string> = {
  succeeded: 'rgb(92, 184, 122)',
  failed: 'rgb(224, 87, 76)',
  'timed-out': 'rgb(240, 168, 58)',
  cancelled: 'rgb(163, 169, 177)',
  retried: 'rgb(196, 163, 224)',
};

const INJECTED_ID = '<img src=x onerror="alert(1)">';
const INJECTED_STDERR = '</script><script>alert(2)</script><b>bold</b>';

/** What is drawn at the centre of attempt i's bar. */
interface Drawn {
  barStatus: string | null;
  barLane: string | null;
  barAttempts: string[];
  fill: string | null;
  laneUnder: string | null;
  box: { x: number; y: number; width: number; height: number };
}

describe('the browser the --report tests use', () => {
  it('is Chromium found on PATH; none there is a failure that says what to install, not a skip', () => {
    expect(findChromium()).toMatch(/\/chromium(-browser)?$/);
    const dir = temp();
    expect(() => findChromium(dir)).toThrow(
      /the --report tests need Chromium: none of chromium, chromium-browser is on PATH .*install it/,
    );
  });
});

describe('--report', () => {
  it('a run with failures, a timeout and retries: every job has its bars, in its lane and colour', async () => {
    const dir = temp();
    const report = join(dir, 'run.html');
    const json = join(dir, 'results.json');
    const flag = join(dir, 'flaky-ran-once');
    const jobs = [
      { id: 'build', run: 'sleep 0.6; echo built' },
      { id: 'lint', run: "sleep 0.3; echo 'warning: unused variable' >&2" },
      { id: 'unit-tests', run: "sleep 0.4; printf 'FAIL a.test.ts\\nexpected 1, got 2\\n' >&2; exit 3" },
      { id: 'too-slow', run: 'sleep 30' },
      {
        id: 'flaky',
        run: `if [ -f '${flag}' ]; then sleep 0.2; else touch '${flag}'; sleep 0.3; echo 'connection reset' >&2; exit 1; fi`,
      },
      { id: INJECTED_ID, run: `sleep 0.2; printf '%s\\n' '${INJECTED_STDERR}' >&2; exit 2` },
      { id: 'docs', run: 'sleep 0.4' },
      { id: 'package', run: 'sleep 0.5' },
      { id: 'quick', run: 'true' },
    ];
    writeFileSync(join(dir, 'jobs.json'), JSON.stringify(jobs));
    const r = await poolrun(
      [
        '-w',
        '3',
        '--timeout',
        '1s',
        '--kill-after',
        '200ms',
        '--retries',
        '1',
        '--report',
        report,
        '--json',
        json,
        'jobs.json',
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(1);
    const results = readJson(json).results;
    const byId = new Map(results.map((x) => [x.id, x]));
    expect(byId.get('too-slow')!.status).toBe('timed-out');
    expect(byId.get('flaky')).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(byId.get('unit-tests')).toMatchObject({ status: 'failed', attempts: 2, exitCode: 3 });

    const html = readFileSync(report, 'utf8');
    // Untrusted text is never markup, and nothing is loaded from anywhere.
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<b>bold');
    expect(html).not.toMatch(/(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    expect(html).not.toMatch(/url\(|@import/i);

    const { page, watch } = await openReport(browser, report);
    const shot = join(dir, 'run.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(1200); // width from the IHDR chunk
    expect(png.length).toBeGreaterThan(20_000);

    // Header figures.
    const figure = (name: string) => page.textContent(`[data-figure="${name}"]`);
    expect(await figure('workers')).toBe('3');
    expect(await figure('mode')).toBe('thread');
    expect(await figure('jobs')).toBe('9');
    expect(await figure('command')).toBe(
      `poolrun -w 3 --timeout 1s --kill-after 200ms --retries 1 --report ${report} --json ${json} jobs.json`,
    );
    const summaryLine = /poolrun: (9 jobs: .*)/.exec(r.stderr)![1]!;
    expect(await figure('summary')).toBe(summaryLine);
    expect(summaryLine).toMatch(/6 succeeded, 2 failed, 1 timed out/);

    // Every job: as many bars as attempts; the last in the job's final status, earlier ones `retried`; each on
    // the lane of the worker that ran it; durations as in --json.
    const data = reportData(report);
    const all = attempts(data);
    expect(data.lanes).toEqual(['worker 1', 'worker 2', 'worker 3']);
    for (const res of results) {
      const mine = all.filter((a) => a.index === res.index).sort((a, b) => a.n - b.n);
      expect(
        mine.map((a) => a.n),
        res.id,
      ).toEqual(Array.from({ length: res.attempts }, (_, k) => k + 1));
      const last = mine[mine.length - 1]!;
      expect(last).toMatchObject({ id: res.id, status: res.status, worker: res.worker, dur: res.durationMs });
      expect(last.exit).toBe(res.exitCode);
      for (const a of mine.slice(0, -1)) expect(a.status).toBe('retried');
      // A retry starts after the attempt before it ended.
      for (let k = 1; k < mine.length; k++)
        expect(mine[k]!.start).toBeGreaterThanOrEqual(mine[k - 1]!.start + mine[k - 1]!.dur - 5);
    }
    expect(all.filter((a) => a.status === 'retried')).toHaveLength(4);

    const drawn: Drawn[] = await page.evaluate((n) => {
      const api = (window as unknown as { poolrunReport: { barBox(i: number): Drawn['box'] } }).poolrunReport;
      return Array.from({ length: n }, (_, i) => {
        const box = api.barBox(i);
        const under = document.elementsFromPoint(box.x + box.width / 2, box.y + box.height / 2);
        // The path that draws this attempt (a neighbour's bar may touch it and lie on top at the centre point:
        // a job as short as `true` is drawn at a minimum width).
        const bar =
          under.find(
            (e) =>
              e.classList.contains('bar') &&
              (e.getAttribute('data-attempts') ?? '').split(',').includes(String(i)),
          ) ?? under.find((e) => e.classList.contains('bar'));
        const lane = under.find((e) => e.classList.contains('lane'));
        return {
          barStatus: bar?.getAttribute('data-status') ?? null,
          barLane: bar?.getAttribute('data-lane') ?? null,
          barAttempts: (bar?.getAttribute('data-attempts') ?? '').split(','),
          fill: bar ? getComputedStyle(bar).fill : null,
          laneUnder: lane?.getAttribute('data-lane') ?? null,
          box,
        };
      });
    }, all.length);
    for (const a of all) {
      const d = drawn[a.i]!;
      expect(d.box.width, a.id).toBeGreaterThan(1);
      expect(d.barStatus, a.id).toBe(a.status);
      expect(d.barAttempts, a.id).toContain(String(a.i));
      expect(d.barLane, a.id).toBe(String(a.worker));
      expect(d.laneUnder, a.id).toBe(String(a.worker));
      expect(d.fill, a.id).toBe(COLORS[a.status]);
    }
    // Lanes are top to bottom in worker order; a bar's left edge is its start time.
    const box = (id: string, n: number) => drawn[all.find((a) => a.id === id && a.n === n)!.i]!.box;
    expect(box('flaky', 2).x).toBeGreaterThan(box('flaky', 1).x + box('flaky', 1).width - 1);
    const laneY = (w: number) => drawn[all.find((a) => a.worker === w)!.i]!.box.y;
    expect(laneY(1)).toBeLessThan(laneY(2));
    expect(laneY(2)).toBeLessThan(laneY(3));

    // Utilisation = busy / (workers × wall), from the drawn data.
    const busy = data.a.dur.reduce((s, x) => s + x, 0);
    expect(await figure('utilisation')).toBe(`${((100 * busy) / (3 * data.wallMs)).toFixed(1)}%`);

    // Tooltips: id, status and exit, attempt, duration, the tail of stderr — the injected text as text.
    const hover = async (id: string, n: number) => {
      const b = box(id, n);
      await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
      await page.waitForSelector('#tip:not([hidden])');
      return (await page.textContent('#tip')) ?? '';
    };
    const unit = await hover('unit-tests', 2);
    expect(unit).toContain('unit-tests');
    expect(unit).toContain('failed · exit 3');
    expect(unit).toContain('attempt 2 of 2 · worker');
    // Its drawn duration, as the page writes durations (ms under a second, else seconds): at least its `sleep 0.4`.
    const unitDur = all.find((a) => a.id === 'unit-tests' && a.n === 2)!.dur;
    expect(unitDur).toBeGreaterThanOrEqual(400);
    expect(unit).toContain(
      `ran ${unitDur < 1000 ? `${Math.round(unitDur)}ms` : `${(unitDur / 1000).toFixed(2)}s`}, from +`,
    );
    expect(unit).toContain('FAIL a.test.ts\nexpected 1, got 2');
    const slow = await hover('too-slow', 1);
    expect(slow).toContain('retried · signal SIGTERM · timed out after 1000ms');
    expect(await hover('flaky', 1)).toContain('connection reset');
    const injected = await hover(INJECTED_ID, 2);
    expect(injected).toContain(INJECTED_ID);
    expect(injected).toContain(INJECTED_STDERR);
    expect(await page.locator('#tip strong').textContent()).toBe(INJECTED_ID);
    await page.mouse.move(1, 1);
    await page.waitForSelector('#tip', { state: 'hidden' });

    // Labels: ids on the bars that are wide enough, as text.
    const labels = await page.$$eval('#chart .label', (ts) => ts.map((t) => t.textContent));
    expect(labels).toContain('build');
    expect(await page.$$eval('img', (x) => x.length)).toBe(0);
    expect(await page.$$eval('script', (x) => x.length)).toBe(2);

    // Zooming redraws without losing a bar.
    await page.click('#zoom-in');
    await page.click('#zoom-in');
    const widths = await page.$eval('#chart', (c) => Number(c.getAttribute('width')));
    expect(widths).toBeGreaterThan(3000);
    const drawnAttempts = await page.$$eval('#chart .bar', (ps) =>
      ps.flatMap((p) => (p.getAttribute('data-attempts') ?? '').split(',')),
    );
    expect(drawnAttempts.map(Number).sort((a, b) => a - b)).toEqual(all.map((a) => a.i));

    expect(watch.errors).toEqual([]);
    expect(watch.console.filter((m) => m.type === 'error' || m.type === 'warning')).toEqual([]);
    expect(watch.dialogs).toEqual([]);
    expect(watch.requests).toEqual([pathToFileURL(report).href]);
    await page.close();
  });

  it('10,000 jobs: the file stays under 2 MB and draws in a few seconds, a few elements per lane', async () => {
    const dir = temp();
    const report = join(dir, 'big.html');
    // Call jobs (10,000 shell jobs would take most of a minute): each writes 1 KB of stderr, every tenth throws
    // and is retried once; ids of 60 characters. More stderr than the report keeps.
    writeFileSync(
      join(dir, 'tasks.mjs'),
      `export async function work(i) {
        process.stderr.write(('stderr of job ' + i + ' ').padEnd(99, '.') + '\\n');
        for (let k = 0; k < 9; k++) process.stderr.write(('more output, line ' + k + ' ').padEnd(99, '.') + '\\n');
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 20));
        if (i % 10 === 0) throw new Error('job ' + i + ' failed on purpose');
        return i;
      }\n`,
    );
    const lines = Array.from({ length: 10_000 }, (_, i) =>
      JSON.stringify({
        id: `dataset/partition-${String(i).padStart(5, '0')}/shard.parquet`.padEnd(60, '#'),
        call: { module: './tasks.mjs', export: 'work', args: [i] },
      }),
    );
    writeFileSync(join(dir, 'jobs.jsonl'), `${lines.join('\n')}\n`);
    const r = await poolrun(['-q', '-w', '4', '--retries', '1', '--report', report, 'jobs.jsonl'], {
      cwd: dir,
    });
    expect(r.code).toBe(1);
    const size = statSync(report).size;
    expect(size).toBeLessThan(2 * 1024 * 1024);
    const data = reportData(report);
    expect(data.jobs.id).toHaveLength(10_000);
    expect(data.a.job).toHaveLength(11_000);
    // Failing attempts' stderr is kept first, within the report's budget; the rest is said to be left out.
    const failedTail = attempts(data).find((a) => a.status === 'failed')!.tail;
    expect(failedTail).toMatch(/more output, line 8/);
    expect(data.a.tail.filter((t) => t === -2).length).toBeGreaterThan(0);

    const { page, watch, ms } = await openReport(browser, report);
    console.log(
      `10,000-job report: ${(size / 1024).toFixed(0)} KiB, ready in Chromium in ${ms.toFixed(0)} ms ` +
        `(its script: ${await page.evaluate(() => document.documentElement.dataset.renderMs)} ms)`,
    );
    expect(ms).toBeLessThan(10_000);
    const counts = await page.evaluate(() => ({
      paths: document.querySelectorAll('#chart path').length,
      elements: document.querySelectorAll('*').length,
      attempts: Array.from(document.querySelectorAll('#chart .bar')).reduce(
        (s, p) => s + (p.getAttribute('data-attempts') ?? '').split(',').length,
        0,
      ),
    }));
    expect(counts.paths).toBeLessThanOrEqual(4 * 5);
    expect(counts.attempts).toBe(11_000);
    expect(counts.elements).toBeLessThan(3000);
    // Hit-testing still finds a bar's job.
    const box = await page.evaluate(() =>
      (window as unknown as { poolrunReport: { barBox(i: number): Drawn['box'] } }).poolrunReport.barBox(
        5000,
      ),
    );
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForSelector('#tip:not([hidden])');
    expect(await page.textContent('#tip strong')).toMatch(/^dataset\/partition-\d{5}\/shard\.parquet#+$/);
    expect(watch.errors).toEqual([]);
    expect(watch.console.filter((m) => m.type === 'error')).toEqual([]);
    await page.close();
  });

  it('written on SIGINT too: jobs killed mid-run are cancelled bars, jobs never started have none', async () => {
    const dir = temp();
    const report = join(dir, 'stopped.html');
    const pids = join(dir, 'pids');
    const jobs = [
      { id: 'done', run: 'true' },
      ...[1, 2].map((k) => ({ id: `long-${k}`, run: `echo $$ >> '${pids}'; sleep 30` })),
      { id: 'never', run: 'true' },
    ];
    writeFileSync(join(dir, 'jobs.json'), JSON.stringify(jobs));
    const child = startPoolrun([
      '-w',
      '2',
      '--kill-after',
      '300ms',
      '--report',
      report,
      join(dir, 'jobs.json'),
    ]);
    await waitForPids(pids, 2);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    const all = attempts(reportData(report));
    expect(all.map((a) => [a.id, a.status]).sort()).toEqual([
      ['done', 'succeeded'],
      ['long-1', 'cancelled'],
      ['long-2', 'cancelled'],
    ]);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('interrupted (SIGINT)');
    expect(html).toContain('1 job(s) never started');
    const { page, watch } = await openReport(browser, report);
    const killed = all.find((a) => a.id === 'long-1')!;
    const fill = await page.evaluate((i) => {
      const box = (
        window as unknown as { poolrunReport: { barBox(i: number): Drawn['box'] } }
      ).poolrunReport.barBox(i);
      const bar = document
        .elementsFromPoint(box.x + box.width / 2, box.y + box.height / 2)
        .find((e) => e.classList.contains('bar'));
      return bar ? getComputedStyle(bar).fill : null;
    }, killed.i);
    expect(fill).toBe(COLORS.cancelled);
    expect(watch.errors).toEqual([]);
    await page.close();
  });

  it('--deadline (process mode): the report is written, atomically, with the jobs it stopped', async () => {
    const dir = temp();
    const report = join(dir, 'deadline.html');
    writeFileSync(report, 'the previous report');
    const r = await poolrun([
      '-q',
      '-m',
      'process',
      '-w',
      '2',
      // Time for two worker processes to start and the short job to end on a loaded machine, before the deadline.
      '--deadline',
      '3s',
      '--kill-after',
      '200ms',
      '--report',
      report,
      '--each',
      'sleep {}',
      '0.1',
      '30',
      '30',
    ]);
    expect(r.code).toBe(124);
    const all = attempts(reportData(report));
    // The second 30 s job started when the short one ended: both were killed at the deadline.
    expect(all.map((a) => a.status).sort()).toEqual(['cancelled', 'cancelled', 'succeeded']);
    expect(new Set(all.map((a) => a.worker))).toEqual(new Set([1, 2]));
    expect(readFileSync(report, 'utf8')).toContain('--deadline reached');
    // Written whole over the old one, no temp file left beside it.
    expect(readdirSync(dir)).toEqual(['deadline.html']);
  });

  it('--queue: one lane per remote worker process and slot, named by host and pid', async () => {
    const redis = await startRedis();
    const workers: WorkerProcess[] = [];
    try {
      workers.push(await startWorker(redis.url, ['-w', '2', '-m', 'thread']));
      workers.push(await startWorker(redis.url, ['-w', '1', '-m', 'process']));
      const dir = temp();
      const report = join(dir, 'queue.html');
      const json = join(dir, 'queue.json');
      const jobs = Array.from({ length: 12 }, (_, i) => ({
        id: `q${i}`,
        run: i === 5 ? 'exit 4' : 'sleep 0.2',
      }));
      writeFileSync(join(dir, 'jobs.json'), JSON.stringify(jobs));
      const r = await poolrun(['-q', '--queue', redis.url, '--report', report, '--json', json, 'jobs.json'], {
        cwd: dir,
      });
      expect(r.code).toBe(1);
      const data = reportData(report);
      // The thread worker's two slots and the process worker's one (a replaced worker process adds a lane).
      expect(data.lanes.length).toBeGreaterThanOrEqual(2);
      for (const lane of data.lanes)
        expect(lane).toMatch(new RegExp(`^${hostname()} · pid \\d+ · worker \\d$`));
      const threadLanes = data.lanes.filter((l) => l.includes(`pid ${workers[0]!.pid} `));
      expect(threadLanes.length).toBeGreaterThan(0);
      for (const l of threadLanes) expect(l).toMatch(/ · worker [12]$/);
      const key = (l: string) => /pid (\d+) · worker (\d+)/.exec(l)!.slice(1).map(Number);
      const sorted = [...data.lanes].sort((x, y) => key(x)[0]! - key(y)[0]! || key(x)[1]! - key(y)[1]!);
      expect(data.lanes).toEqual(sorted);
      const all = attempts(data);
      for (const res of readJson(json).results) {
        const a = all.find((x) => x.index === res.index)!;
        expect(a.status).toBe(res.status);
        expect(data.lanes[data.a.lane[a.i]!]).toBe(`${hostname()} · pid ${res.pid} · worker ${res.worker}`);
      }
      // A lane runs one job at a time: its bars never overlap.
      for (let l = 0; l < data.lanes.length; l++) {
        const mine = all.filter((a) => data.a.lane[a.i] === l).sort((x, y) => x.start - y.start);
        for (let k = 1; k < mine.length; k++)
          expect(mine[k]!.start).toBeGreaterThanOrEqual(mine[k - 1]!.start + mine[k - 1]!.dur - 2);
      }
      const html = readFileSync(report, 'utf8');
      expect(html).toContain('data-figure="mode">queue<');
      expect(html).toContain(`data-figure="workers">${data.lanes.length}<`);
    } finally {
      for (const w of workers) await w.stop();
      await redis.stop();
    }
  });

  it('a report path that cannot be written is refused before anything runs (exit 2)', async () => {
    const dir = temp();
    const marker = join(dir, 'ran');
    const args = ['--each', `touch '${marker}'`, 'x'];
    const missing = await poolrun(['--report', join(dir, 'no-such-folder', 'r.html'), ...args]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^poolrun: --report: cannot write .*folder .* does not exist/m);
    const folder = await poolrun(['--report', dir, ...args]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/--report: .* is a folder/);
    const stdout = await poolrun(['--report', '-', ...args]);
    expect(stdout.code).toBe(2);
    expect(stdout.stderr).toMatch(/--report: expected a file name/);
    expect(existsSync(marker)).toBe(false);
  });
});
