/** Entry point: parse, run, map every error to a message and an exit status. No stack trace reaches a user. */
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { toRunOptions, type RawOptions } from './options.js';
import { run, EXIT } from './run.js';
import { PoolrunError, UsageError } from '../errors.js';
import { toWorkerOptions, workerInvocation } from './worker-command.js';
import { specOf, splitArgv } from '../util/argv-split.js';
import { shown, shownError } from './shown.js';
import { isGnuForm } from '../input/gnu/form.js';
import { ambiguousOption, gnuOnlyOption } from '../gnu/unknown.js';
import { describeSpawnPath, spawnPath } from '../proc/spawn.js';
import { describeCodeCache } from './code-cache.js';

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

/** The job-file form takes one word; an option written after it is not read as one: say so. */
function optionsFirst(args: readonly string[]): void {
  const late = args.slice(1).find((a) => a.length > 1 && a.startsWith('-'));
  if (args.length > 1 && late !== undefined)
    throw new UsageError(
      `options go before the job file: ${JSON.stringify(late)} comes after ${JSON.stringify(args[0])} ` +
        `(everything after the job file is an argument; a file name that starts with - goes after --)`,
    );
}

export async function main(argv: string[]): Promise<number> {
  // --version names the spawn path too (loading the addon only then: proc/spawn.ts).
  // Its abbreviations too (util/argv-split.ts): `--vers`, `--V`, any case.
  const wantsVersion = argv.some((a) => a === '-V' || a === '--V' || /^--vers(?:i(?:on?)?)?$/i.test(a));
  const program = buildProgram(wantsVersion ? `${version()} (${describeSpawnPath()})` : version());
  const output = {
    writeOut: (s: string) => process.stdout.write(s),
    writeErr: (s: string) => process.stderr.write(s),
    outputError: (s: string, write: (s: string) => void) =>
      write(`poolrun: ${shown(s.replace(/^error: /, ''))}`),
  };
  program.configureOutput(output);
  for (const sub of program.commands) sub.configureOutput(output);
  let raw: RawOptions;
  let args: string[];
  try {
    // commander reads options anywhere in the line: it gets only the words before the arguments (util/argv-split.ts).
    const spec = specOf(program);
    const split = splitArgv(argv, spec);
    // A GNU parallel option poolrun does not take: say what to write instead (src/gnu/unknown.ts).
    const known = new Set(spec.options.flatMap((o) => [o.long, o.short]));
    for (const p of split.subcommand ? [] : split.parsed) {
      const hint = known.has(p.name)
        ? undefined
        : p.ambiguous
          ? ambiguousOption(p.name, p.ambiguous)
          : gnuOnlyOption(p.name, p.gnu);
      if (hint) {
        process.stderr.write(`poolrun: ${shown(hint)}\n(run poolrun --help for usage)\n`);
        return EXIT.usage;
      }
    }
    if (split.subcommand) {
      // `poolrun worker …`: the subcommand's options are its own (enablePositionalOptions). Those written before it
      // are its too (`poolrun -w 1 worker …`: they were taken by the main command and ignored, a probe: 2 workers,
      // not 1); one it does not take is exit 2 from its parser.
      const [name, ...rest] = split.subcommand.argv;
      program.parse([name!, ...split.options, ...rest], { from: 'user' });
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
    if (raw.each === undefined && raw.call === undefined && !raw.pipe && !isGnuForm(args, raw.argFile))
      optionsFirst(args);
    // A bad POOLRUN_SPAWN (or =native without the addon) is a usage error before anything runs.
    spawnPath();
    if (raw.verbose) process.stderr.write(`poolrun: ${describeSpawnPath()}\n`);
    const code = await run(toRunOptions(raw, args));
    // Once the run is over: it counts the chunks the run loaded too (a shell job's half, say), not only the start.
    if (raw.verbose) process.stderr.write(`poolrun: ${describeCodeCache()}\n`);
    return code;
  } catch (e) {
    if (e instanceof PoolrunError) {
      process.stderr.write(`poolrun: ${shownError(e)}\n`);
      if (e.exitCode === EXIT.usage && e.name === 'UsageError')
        process.stderr.write('(run poolrun --help for usage)\n');
      await stderrTaken();
      return e.exitCode;
    }
    const err = e as Error;
    process.stderr.write(`poolrun: internal error: ${shown(err?.message ?? String(e))}\n`);
    if (process.env.POOLRUN_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
    await stderrTaken();
    return 70;
  }
}

/** Once stderr has taken what was written (a long message into a slow pipe): the caller exits right after. */
async function stderrTaken(): Promise<void> {
  if (process.stderr.writableLength === 0) return;
  await new Promise<void>((resolve) => {
    process.stderr.once('drain', resolve);
    process.stderr.once('error', resolve);
    process.stderr.once('close', resolve);
  });
}
