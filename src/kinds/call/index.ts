/** `call`: an exported JS function, called inside a worker; its return value is the result's `value`. */
import type { Kind } from '../kind.js';
import { NON_FINITE_MESSAGE, nonFiniteAt } from '../../util/json.js';

export const call: Kind<'call'> = {
  name: 'call',
  normalize(value, resolve) {
    const v = value as Record<string, unknown>;
    const module = v.module as string;
    return {
      kind: 'call',
      call: {
        module: /^(file|data|node):/.test(module) ? module : resolve(module),
        export: typeof v.export === 'string' ? v.export : 'default',
        args: Array.isArray(v.args) ? v.args : [],
      },
    };
  },
  issues(value, at) {
    const args = (value as { args?: unknown }).args;
    const where = Array.isArray(args) ? nonFiniteAt(args) : undefined;
    return where ? [{ at: [...at, 'args', ...where], message: NON_FINITE_MESSAGE }] : [];
  },
  describe: (job) => `call ${job.call.module}#${job.call.export}(${job.call.args.map(argText).join(', ')})`,
  hashed: (job) => job.call,
  // A JS function cannot be interrupted from outside: its worker is ended (and replaced).
  stop: 'worker',
  sendAhead: true,
  returnsValue: true,
  paths: (job) => (/^(file|data|node):/.test(job.call.module) ? [] : [[['module'], job.call.module]]),
  succeeded: () => true,
  preload: true,
  async worker() {
    const [{ runCall }, { envMayHaveChanged }] = await Promise.all([
      import('./call.js'),
      // A call's code may change process.env, of which shell jobs keep a copy.
      import('../run/run.js'),
    ]);
    return { execute: (job, ctx) => runCall(job.call, ctx), after: envMayHaveChanged };
  },
};

function argText(a: unknown): string {
  try {
    return JSON.stringify(a) ?? String(a);
  } catch {
    return '…'; // nested too deep to write out: the run refuses it anyway
  }
}
