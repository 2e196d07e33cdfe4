/** Entry point: parse, run, map every error to a message and an exit status. No stack trace reaches a user. */
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { toRunOptions, type RawOptions } from './options.js';
import { run, EXIT } from './run.js';
import { PoolrunError, UsageError } from '../errors.js';
import { toWorkerOptions, workerInvocation } from './worker-command.js';
import { specOf, splitArgv } from './argv-split.js';
import { redactText } from '../util/redact.js';

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

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f]/g;

/** commander's message, which quotes words of the command line: secrets masked, control characters as `\x1b`. */
function shown(text: string): string {
  const end = text.endsWith('\n') ? '\n' : '';
  const body = redactText(end ? text.slice(0, -1) : text);
  return body.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`) + end;
}

/** The job-file form takes one word; an option written after it is not read as one: say so. */
function optionsFirst(args: readonly string[]): void {
  const late = args.slice(1).find((a) => a.length > 1 && a.startsWith('-'));
  if (args.length > 1 && late !== undefined)
    throw new UsageError(
      `options go before the job file: ${redactText(JSON.stringify(late))} comes after ${redactText(JSON.stringify(args[0]))} ` +
        `(everything after the job file is an argument; a file name that starts with - goes after --)`,
    );
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram(version());
  program.configureOutput({
    writeOut: (s) => process.stdout.write(s),
    writeErr: (s) => process.stderr.write(s),
    outputError: (s, write) => write(`poolrun: ${shown(s.replace(/^error: /, ''))}`),
  });
  let raw: RawOptions;
  let args: string[];
  try {
    // commander reads options anywhere in the line: it gets only the words before the arguments (argv-split.ts).
    const split = splitArgv(argv, specOf(program));
    if (split.subcommand) {
      // `poolrun [options] worker …`: the subcommand's options are its own (enablePositionalOptions).
      program.parse(argv, { from: 'user' });
      args = [];
    } else {
      program.parse(split.options, { from: 'user' });
      args = split.operands;
    }
    raw = program.opts<RawOptions>();
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
    if (raw.each === undefined && raw.call === undefined) optionsFirst(args);
    return await run(toRunOptions(raw, args));
  } catch (e) {
    if (e instanceof PoolrunError) {
      process.stderr.write(`poolrun: ${e.message}\n`);
      if (e.exitCode === EXIT.usage && e.name === 'UsageError')
        process.stderr.write('(run poolrun --help for usage)\n');
      return e.exitCode;
    }
    const err = e as Error;
    process.stderr.write(`poolrun: internal error: ${err?.message ?? String(e)}\n`);
    if (process.env.POOLRUN_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
    return 70;
  }
}
