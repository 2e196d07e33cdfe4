/** Runs GNU parallel or poolrun the same way for a byte comparison: a fixed environment, stdout as raw bytes. */
import { execa } from 'execa';
import { track } from '../helpers.js';

export interface Out {
  code: number;
  /** latin1: every byte one character, so that bytes that are not UTF-8 compare exactly. */
  stdout: string;
  stderr: string;
}

export async function runTool(file: string, args: string[], cwd: string, input = ''): Promise<Out> {
  const r = await track(
    execa(file, args, {
      cwd,
      reject: false,
      input,
      encoding: 'buffer',
      stripFinalNewline: false,
      timeout: 50_000,
      env: { NO_COLOR: '1', LC_ALL: 'C', PARALLEL_SHELL: '/bin/sh' },
    }),
  );
  return {
    code: r.exitCode ?? -1,
    stdout: Buffer.from(r.stdout).toString('latin1'),
    stderr: Buffer.from(r.stderr).toString('utf8'),
  };
}
