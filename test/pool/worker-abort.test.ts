/**
 * A worker told to stop a job whose batch it has but has not started yet (the main thread takes a job as running
 * once it is its worker's turn, so `--deadline` or `--halt now` right after a dispatch sends `abort` at once):
 * the job starts aborted. Acceptance probe: the abort was dropped (it named no running job), so a copy the results
 * said was cancelled ran on, past the deadline, and left its file at `to`.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessWorker } from '../../dist/pool/process.js';
import { ThreadWorker } from '../../dist/pool/thread.js';
import type { FromWorker } from '../../dist/pool/protocol.js';
import { useTempDirs } from '../helpers.js';

const temp = useTempDirs();

describe.each([
  ['process', () => new ProcessWorker()],
  ['thread', () => new ThreadWorker()],
] as const)('a %s worker', (_mode, start) => {
  it('given a batch and its job’s abort in one go: the copy starts aborted, nothing at `to`', async () => {
    const dir = temp();
    const from = join(dir, 'big.bin');
    writeFileSync(from, Buffer.alloc(64 * 1024 * 1024, 1));
    const to = join(dir, 'out', 'big.bin');
    const w = start();
    const messages: FromWorker[] = [];
    let ready!: () => void;
    let done!: (m: FromWorker) => void;
    const isReady = new Promise<void>((r) => (ready = r));
    const isDone = new Promise<FromWorker>((r) => (done = r));
    w.onMessage((m) => {
      messages.push(m);
      if (m.type === 'ready') ready();
      if (m.type === 'done') done(m);
    });
    try {
      await isReady;
      w.send({
        type: 'batch',
        worker: 1,
        capture: { stream: false, keep: true, spill: false, limit: 1 << 20, spillDir: dir },
        jobs: [{ key: 7, job: { id: 'c', index: 0, kind: 'copy', copy: { from, to, overwrite: false } } }],
      });
      w.send({ type: 'abort', key: 7 });
      const m = await isDone;
      expect(m).toMatchObject({ type: 'done', key: 7, outcome: { aborted: true } });
      expect(existsSync(to)).toBe(false);
    } finally {
      w.kill();
    }
  });
});
