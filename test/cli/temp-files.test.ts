/**
 * poolrun keeps things on disk for a while (a job's output past the capture limit, the records spooled for --json
 * and --junit, --pipe blocks): all of it in one folder of its own under TMPDIR, mode 0700, which is gone when the
 * run ends, and gone too when poolrun is SIGKILLed (the watchdog removes it once the jobs are dead).
 */
import { execa } from 'execa';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, CLI_TIMEOUT_MS, pidAlive, track, useTempDirs, waitFor } from '../helpers.js';
import { modes, readNumbers, writeJobs } from './failure-helpers.js';

const temp = useTempDirs();

/** Every file and folder under `dir`, as paths relative to it. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

/** Job `big` prints 3 MB (past the 1 MiB capture limit: spilled to a file), then says so and waits. */
function jobs(dir: string, wait: number) {
  const pids = join(dir, 'pids');
  const file = writeJobs(dir, [
    { id: 'small', run: 'echo small' },
    {
      id: 'big',
      run: `head -c 3000000 /dev/zero | tr '\\0' a; echo; echo $$ >> ${pids}; touch ${dir}/printed; sleep ${wait}`,
    },
  ]);
  return { file, pids };
}

function start(tmp: string, args: string[]) {
  return track(
    execa(process.execPath, [BIN, ...args], {
      reject: false,
      timeout: CLI_TIMEOUT_MS,
      env: { NO_COLOR: '1', TMPDIR: tmp },
      stdout: 'ignore',
    }),
  );
}

describe.each(modes)('%s mode: temp files', (mode) => {
  it('live in one folder of 0700 under TMPDIR while the run needs them, and are gone when it ends', async () => {
    const dir = temp();
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    const { file } = jobs(dir, 1);
    const run = start(tmp, [
      '-m',
      mode,
      '-w',
      '2',
      '--json',
      join(dir, 'o.json'),
      '--junit',
      join(dir, 'o.xml'),
      file,
    ]);
    expect(await waitFor(() => existsSync(join(dir, 'printed')), 20_000)).toBe(true);
    const held = tree(tmp);
    expect(held.length).toBe(1 + held.filter((p) => p.includes('/')).length);
    const root = join(tmp, held[0]!);
    expect(held[0]).toMatch(/^poolrun-\d+-[0-9a-f]{12}$/);
    expect(statSync(root).mode & 0o777).toBe(0o700);
    // The spilled output is in it.
    expect(
      held.some((p) => /\/spill-[0-9a-f]+\/\d+\.stdout$/.test(p)),
      held.join('\n'),
    ).toBe(true);
    const r = await run;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(tree(tmp)).toEqual([]);
  });

  it('poolrun SIGKILLed: the watchdog removes them once the jobs are dead', async () => {
    const dir = temp();
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    const { file, pids } = jobs(dir, 60);
    const run = start(tmp, ['-m', mode, '-w', '2', '--json', join(dir, 'o.json'), file]);
    expect(await waitFor(() => existsSync(join(dir, 'printed')), 20_000)).toBe(true);
    expect(tree(tmp).some((p) => p.endsWith('.stdout'))).toBe(true);
    run.kill('SIGKILL');
    await run;
    const [job] = readNumbers(pids);
    expect(await waitFor(() => !pidAlive(job!), 20_000)).toBe(true);
    expect(await waitFor(() => tree(tmp).length === 0, 20_000), tree(tmp).join('\n')).toBe(true);
  });
});
