import { Command, Option } from 'commander';
import { addWorkerCommand } from './worker-command.js';

const HELP_AFTER = `
Examples:
  poolrun jobs.json                                 run a job file on a thread pool (one worker per core)
  poolrun --workers 10 --mode process jobs.json     ten long-lived worker processes
  poolrun --timeout 30s --retries 2 --json out.json jobs.json
  poolrun --call ./tasks.mjs#square 1 2 3           call a function per argument; one JSON value per line
  ls *.log | poolrun --each 'gzip {}'               one shell job per stdin line; {} is the line, quoted
  poolrun --each 'convert {} {.}.png' *.jpg         one job per argument ({.}: without extension)
  find . -name '*.tmp' -print0 | poolrun -0 --each 'rm {}'

Options come first: after --each CMD or --call T every word is an argument (a file named -rf or --json=x is
a name, not an option); an option after JOBFILE is an error.

--each replacement strings (as in GNU parallel; every value is shell-quoted, so write them bare):
  {} argument   {.} without extension   {/} basename   {//} dirname   {/.} basename without extension
  {#} job number (1-based)   {%} worker slot (1..n)   no replacement string: the argument is appended

Exit status: 0 all jobs succeeded (or --dry-run) · 1 a job failed, timed out or was cancelled by --halt
             2 usage error or invalid job file (nothing ran) · 124 --deadline reached
             130/143/129 SIGINT/SIGTERM/SIGHUP · 141 stdout closed (EPIPE)`;

/**
 * The commander program. Parsing only: values are checked by toRunOptions, which knows what they mean. main.ts
 * hands it only the words before the arguments (util/argv-split.ts, from these definitions); an option added here
 * also goes into util/argv-split.ts's EARLY_OPTIONS, for the start-up guess (test/argv-split.test.ts checks).
 */
export function buildProgram(version: string): Command {
  const program = new Command('poolrun')
    .description('Run a list of jobs on a pool of threads or processes; print their output in input order.')
    .usage(
      "[options] [JOBFILE | -]\n       poolrun [options] --each 'CMD {}' [ARG...]\n       poolrun [options] --call MODULE#EXPORT [ARG...]\n       poolrun worker --queue URL [options]",
    )
    .version(version, '-V, --version')
    .argument('[args...]', 'job file (.json, .jsonl, .txt; - for stdin); with --each/--call: their arguments')
    .option(
      '-w, --workers <n>',
      'pool size: a number, N% of available cores, or auto (follows idle CPU and pressure) (default: available cores)',
    )
    .option('--max-workers <n>', 'with -w auto: the widest the pool may grow (default: 8 per core)')
    .option(
      '--schedule <order>',
      'start order: input, or longest-first (by the durations --joblog recorded in earlier runs)',
    )
    .addOption(
      new Option('-m, --mode <mode>', 'thread: worker threads; process: worker processes')
        .choices(['thread', 'process'])
        .default('thread'),
    )
    .option('--chunksize <n>', 'jobs per message to a worker process (no effect in thread mode)', '1')
    .addOption(
      new Option('--order <order>', 'order of printed output and results')
        .choices(['input', 'completion'])
        .default('input'),
    )
    .addOption(
      new Option('--output <mode>', 'group: each job whole; stream: lines as they come, prefixed [id]; none')
        .choices(['group', 'stream', 'none'])
        .default('group'),
    )
    .option(
      '--timeout <dur>',
      "per-job limit (500ms, 30s, 2m); the job's process tree gets SIGTERM, then SIGKILL",
    )
    .option('--kill-after <dur>', 'grace between SIGTERM and SIGKILL', '5s')
    .option('--deadline <dur>', 'limit on the whole run: unfinished jobs are cancelled or killed, exit 124')
    .option('--retries <n>', 're-run a failed or timed-out job up to n times', '0')
    .option('--retry-delay <dur>', 'wait before the first retry; doubles for each further one', '0')
    .addOption(
      new Option(
        '--halt <when>',
        'on the first failure: soon = start nothing new; now = also kill running jobs',
      )
        .choices(['never', 'soon', 'now'])
        .default('never'),
    )
    .option('--fail-fast', 'same as --halt soon')
    .option('--json <file>', 'write the ordered results document (- for stdout)')
    .option('--report <file>', 'write an HTML timeline of the run: one lane per worker, one bar per attempt')
    .addOption(
      new Option('--reporter <kind>', 'status display')
        .choices(['auto', 'tty', 'plain', 'ndjson'])
        .default('auto'),
    )
    .option('--junit <file>', 'write JUnit XML, one testcase per job')
    .option('--joblog <file>', "write one line per finished job (GNU parallel's joblog format)")
    .option('--resume', 'with --joblog: skip jobs the log records as finished (succeeded or failed)')
    .option('--resume-failed', 'with --joblog: skip jobs the log records as succeeded; re-run failed ones')
    .option('--dry-run', 'print each job as it would run; run nothing')
    .option('-q, --quiet', 'no status display; job output and results only')
    .option('--no-color', 'plain text (NO_COLOR and FORCE_COLOR are honoured too)')
    .option('--each <cmd>', 'run the shell command once per argument, or per stdin line without arguments')
    .option('-0, --null', 'with --each: stdin items are separated by NUL, not newline (find -print0)')
    .option('--call <target>', 'MODULE#EXPORT: call the function once per argument')
    .addOption(
      new Option('--format <format>', 'input format, instead of guessing from the extension').choices([
        'json',
        'jsonl',
        'lines',
      ]),
    )
    .option('--capture-limit <size>', 'bytes of each job stream kept in memory before spilling to disk', '1M')
    .option(
      '--queue <url>',
      'run on `poolrun worker`s serving this Redis (redis://host:6379/0) instead of locally',
    )
    .option(
      '--queue-ttl <dur>',
      'with --queue: how long finished jobs and results stay in Redis (default 1h)',
    )
    .option('--queue-timeout <dur>', 'with --queue: how long to retry an unreachable Redis (default 10s)')
    .addHelpText('after', HELP_AFTER)
    .showHelpAfterError('(run poolrun --help for usage)')
    .exitOverride()
    // Options after `worker` are the worker's; a root action lets a job file be the first argument.
    .enablePositionalOptions()
    .action(() => {});
  addWorkerCommand(program);
  return program;
}
