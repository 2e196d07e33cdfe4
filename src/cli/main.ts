/** Entry point: parse, run, map every error to a message and an exit status. No stack trace reaches a user. */
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { toRunOptions, type RawOptions } from './options.js';
import { run, EXIT } from './run.js';
import { PoolrunError } from '../errors.js';
import { redactText } from '../util/redact.js';
import { toWorkerOptions, workerInvocation } from './worker-command.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram(version());
  program.configureOutput({
    writeOut: (s) => process.stdout.write(s),
    writeErr: (s) => process.stderr.write(s),
    outputError: (s, write) => write(`poolrun: ${redactText(s.replace(/^error: /, ''))}`),
  });
  let raw: RawOptions;
  let args: string[];
  try {
    program.parse(argv, { from: 'user' });
    raw = program.opts<RawOptions>();
    args = program.args;
    if (program.getOptionValueSource('color') !== 'cli') delete raw.color;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    throw e;
  }
  try {
    const worker = workerInvocation(program);
    if (worker) return await (await import('../queue/worker.js')).runWorker(toWorkerOptions(worker));
    return await run(toRunOptions(raw, args));
  } catch (e) {
    if (e instanceof PoolrunError) {
      process.stderr.write(`poolrun: ${redactText(e.message)}\n`);
      if (e.exitCode === EXIT.usage && e.name === 'UsageError')
        process.stderr.write('(run poolrun --help for usage)\n');
      return e.exitCode;
    }
    const err = e as Error;
    process.stderr.write(`poolrun: internal error: ${redactText(err?.message ?? String(e))}\n`);
    if (process.env.POOLRUN_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
    return 70;
  }
}
