/**
 * Which value a job gets when the job, the file's `defaults` and the command line all have one: the job's own
 * field, then `defaults`, then the option (`--timeout`, `--retries`), then the built-in default. `"timeout": null`
 * (in the job or in `defaults`) is a value too: no limit, whatever `--timeout` says.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { poolrun, readJson, useTempDirs, writeJobs } from '../helpers.js';
import { buildJob } from '../../dist/jobs/normalize.js';

const temp = useTempDirs();

async function run(jobs: unknown, words: string[]) {
  const dir = temp();
  const file = writeJobs(dir, jobs);
  const json = join(dir, 'out.json');
  const r = await poolrun(['-q', ...words, '--json', json, file]);
  return { r, doc: readJson(json) };
}

describe('job field > file defaults > command-line option', () => {
  it('"timeout": null in a job: no limit, although --timeout is given', async () => {
    const { r, doc } = await run(
      [{ run: 'sleep 1; echo done', timeout: null }, 'sleep 3'],
      ['--timeout', '300ms'],
    );
    expect(doc.results.map((x) => x.status)).toEqual(['succeeded', 'timed-out']);
    expect(doc.results[0]!.stdout).toBe('done\n');
    expect(r.code).toBe(1);
  });

  it('"timeout": null in defaults: no limit for the jobs without one of their own', async () => {
    const { doc } = await run(
      { defaults: { timeout: null }, jobs: ['sleep 1; echo done', { run: 'sleep 3', timeout: '300ms' }] },
      ['--timeout', '200ms'],
    );
    expect(doc.results.map((x) => x.status)).toEqual(['succeeded', 'timed-out']);
  });

  it("a job's own timeout beats a null in defaults and the option; in process mode too", async () => {
    const { doc } = await run({ defaults: { timeout: null }, jobs: [{ run: 'sleep 3', timeout: '300ms' }] }, [
      '--mode',
      'process',
      '--timeout',
      '1h',
    ]);
    expect(doc.results[0]!.status).toBe('timed-out');
  });

  it('defaults.timeout beats --timeout; --timeout applies where neither sets one', async () => {
    const { doc } = await run({ defaults: { timeout: '30s' }, jobs: ['sleep 1; echo done'] }, [
      '--timeout',
      '300ms',
    ]);
    expect(doc.results[0]!.status).toBe('succeeded');
    const plain = await run(['sleep 3'], ['--timeout', '300ms']);
    expect(plain.doc.results[0]!.status).toBe('timed-out');
  });

  it('retries: the job, then defaults, then --retries', async () => {
    const { doc } = await run({ defaults: { retries: 2 }, jobs: ['exit 1', { run: 'exit 1', retries: 0 }] }, [
      '--retries',
      '5',
    ]);
    expect(doc.results.map((x) => x.attempts)).toEqual([3, 1]);
    const cli = await run(['exit 1'], ['--retries', '1']);
    expect(cli.doc.results[0]!.attempts).toBe(2);
  });

  it("--timeout N% (GNU's) is for jobs without a limit of their own: not a null, not their own timeout", async () => {
    const { doc } = await run(
      [
        // The quick jobs set the median. They are exempt themselves: as in GNU parallel, the first to succeed sets
        // a limit of a few ms that a second quick job on a loaded machine can pass (a race, not a bug).
        { run: 'true', timeout: null },
        { run: 'true', timeout: null },
        { run: 'true', timeout: null },
        { run: 'sleep 2; echo done', timeout: null },
        { run: 'sleep 2; echo done', timeout: '1h' },
        'sleep 2; echo done',
      ],
      ['-j', '3', '--timeout', '50%'],
    );
    expect(doc.results.map((x) => x.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
      'timed-out',
    ]);
  });

  it('buildJob marks an explicit null, and only that', () => {
    expect(buildJob({ run: 'x', timeout: null }, 0, '/')).toMatchObject({ noTimeout: true });
    expect(buildJob({ run: 'x', timeout: null }, 0, '/').timeoutMs).toBeUndefined();
    expect(buildJob('x', 0, '/', { timeout: null })).toMatchObject({ noTimeout: true });
    expect(buildJob({ run: 'x', timeout: '1s' }, 0, '/', { timeout: null })).not.toHaveProperty('noTimeout');
    expect(buildJob('x', 0, '/')).not.toHaveProperty('noTimeout');
  });
});
