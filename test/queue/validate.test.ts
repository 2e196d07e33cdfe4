/**
 * A result a queue worker sends is checked before the producer's reports use it (src/queue/validate.ts
 * checkResult, from dist/: its schema check is compiled at build time): an error's causes are part of it (a call's `new Error(m, { cause })`), checked as deep as a
 * worker sends them, and anything else in their place makes the result unreadable.
 */
import { describe, expect, it } from 'vitest';
import { checkResult } from '../../dist/queue/validate.js';
import { MAX_CAUSES } from '../../dist/kinds/outcome.js';
import { jobResult } from './result.js';

function result(error: unknown): Record<string, unknown> {
  return jobResult('1', 0, { kind: 'call', status: 'failed', exitCode: null, error });
}

function chain(n: number): Record<string, unknown> {
  let e: Record<string, unknown> = { name: 'Error', message: 'root' };
  for (let i = 0; i < n; i++) e = { name: 'Error', message: `level ${i}`, cause: e };
  return e;
}

describe('queue results: an error and its causes', () => {
  it('a cause chain as deep as a worker sends is read', () => {
    expect(checkResult(result(chain(0)))).toBeDefined();
    expect(checkResult(result(chain(MAX_CAUSES)))).toBeDefined();
  });

  it('a deeper chain, or a cause that is not an error, is not', () => {
    expect(checkResult(result(chain(MAX_CAUSES + 1)))).toBeUndefined();
    for (const cause of ['text', 1, null, [], { name: 'E' }, { name: 'E', message: 1 }])
      expect(
        checkResult(result({ name: 'Error', message: 'm', cause })),
        JSON.stringify(cause),
      ).toBeUndefined();
  });
});
