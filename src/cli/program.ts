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
             (GNU parallel's form CMD ::: A B: 1-100 the number of failed jobs, 101 more; --halt: the job's)
             2 usage error or invalid job file (nothing ran) · 124 --deadline reached
             130/143/129 SIGINT/SIGTERM/SIGHUP · 141 stdout closed or unwritable`;

/** `-a F -a G`: every value, in order. */
const addTo = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * The commander program. Parsing only: values are checked by toRunOptions, which knows what they mean. main.ts
 * hands it only the words before the arguments (util/argv-split.ts, from these definitions); an option added here
 * also goes into util/argv-split.ts's EARLY_OPTIONS, for the start-up guess (test/util/argv-split.test.ts checks).
 */
export function buildProgram(version: string): Command {
  const program = new Command('poolrun')
    .description('Run a list of jobs on a pool of threads or processes; print their output in input order.')
    .usage(
      "[options] [JOBFILE | -]\n       poolrun [options] --each 'CMD {}' [ARG...]\n       poolrun [options] CMD [WORD...] ::: ARG... [:::: FILE...]\n       poolrun [options] --call MODULE#EXPORT [ARG...]\n       poolrun worker --queue URL [options]",
    )
    .version(version, '-V, --version')
    .argument('[args...]', 'job file (.json, .jsonl, .txt; - for stdin); with --each/--call: their arguments')
    .option(
      '-w, --workers <n>',
      'pool size: N, N% of available cores, +N/-N (cores plus/minus N), 0 = 1000, or auto (follows idle CPU and pressure) (default: available cores)',
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
      "per-job limit (500ms, 30s, 2m, or N% of the median runtime of the jobs that succeeded); the job's process tree gets SIGTERM, then SIGKILL",
    )
    .option('--kill-after <dur>', 'grace between SIGTERM and SIGKILL', '5s')
    .option('--deadline <dur>', 'limit on the whole run: unfinished jobs are cancelled or killed, exit 124')
    .option('--retries <n>', 're-run a failed or timed-out job up to n times', '0')
    .option('--retry-delay <dur>', 'wait before the first retry; doubles for each further one', '0')
    .addOption(
      new Option(
        '--halt <when>',
        "on the first failure: soon = start nothing new; now = also kill running jobs (GNU's soon,fail=1, now,fail=1, 0, 1, 2 too)",
      ).default('never'),
    )
    .option('--fail-fast', 'same as --halt soon')
    .option('--delay <dur>', 'at least this long between two job starts')
    .option(
      '--memfree <size>',
      'start a job only while available memory >= size (512M, 2G); below half, requeue the youngest',
    )
    .option('--load <n>', 'start a job only while the 1-minute load average is below n (or n% of cores)')
    .option('--json <file>', 'write the ordered results document (- for stdout)')
    .option('--report <file>', 'write an HTML timeline of the run: one lane per worker, one bar per attempt')
    .addOption(
      new Option('--reporter <kind>', 'status display')
        .choices(['auto', 'tty', 'plain', 'ndjson'])
        .default('auto'),
    )
    .option('--junit <file>', 'write JUnit XML, one testcase per job (- for stdout)')
    .option('--joblog <file>', "write one line per finished job (GNU parallel's joblog format)")
    .option('--resume', 'with --joblog: skip jobs the log records as finished (succeeded or failed)')
    .option('--resume-failed', 'with --joblog: skip jobs the log records as succeeded; re-run failed ones')
    .option('--dry-run', 'print each job as it would run; run nothing')
    .option('--verbose', 'say on stderr how jobs are started (the spawn path: native addon or child_process)')
    .option('-q, --quiet', 'no status display; job output and results only')
    .option('--no-color', 'plain text (NO_COLOR and FORCE_COLOR are honoured too)')
    .option('--each <cmd>', 'run the shell command once per argument, or per stdin line without arguments')
    .option(
      '-0, --null',
      'items are separated by NUL, not newline (find -print0): stdin with --each or --call, the files of :::: and -a',
    )
    .option(
      '--call <target>',
      'MODULE#EXPORT: call the function once per argument, or per stdin line without arguments',
    )
    // GNU parallel's input (issue 16): CMD ::: A B :::: FILE (input/gnu/options.ts).
    .option(
      '-a, --arg-file <file>',
      'an input source: one argument per line (- for stdin); repeatable',
      addTo,
    )
    .option(
      '-N, --max-replace-args <n>',
      'n arguments per job: {1}…{n} each, {} all of them (with --pipe: records per block)',
    )
    .option('-n, --max-args <n>', 'at most n arguments per job (appended, or {})')
    .option('--colsep <regex>', 'split each input line into columns {1} {2}… at this regular expression')
    .option('--header <regex>', '--header : the first value of each source names it: {name}')
    .option('--link', 'take the sources side by side instead of every combination (the shorter ones wrap)')
    .addOption(
      new Option('--format <format>', 'input format, instead of guessing from the extension').choices([
        'json',
        'jsonl',
        'lines',
      ]),
    )
    .option('--fsync', 'copy and download jobs sync each file and folder to disk (survives a power loss)')
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
    // GNU parallel's habits (issue 16; read in src/gnu/options.ts).
    .option('-j, --jobs <n>', "the same as -w/--workers (GNU parallel's name for it)")
    .option('-k, --keep-order', 'accepted: output is in input order by default (--order input)')
    .option('--group', "accepted: each job's output is printed whole by default (--output group)")
    .option(
      '--line-buffer',
      '--output stream with lines printed bare (or tagged), as GNU parallel prints them',
    )
    .option(
      '-u, --ungroup',
      "as --line-buffer: output as it comes, in whole lines (GNU parallel's -u may also mix half lines)",
    )
    .option('--will-cite', 'accepted; poolrun shows no citation notice')
    .option('--bar', 'accepted: the live view on a terminal shows done/total and an ETA')
    .option('--eta', 'accepted: the live view on a terminal shows done/total and an ETA')
    .option('--progress', 'accepted: the live view on a terminal shows done/total and an ETA')
    .option(
      '-r, --no-run-if-empty',
      'an argument or input line of only whitespace makes no job, as GNU parallel; with --pipe, blank lines are dropped',
    )
    .option('--shuf', 'run the jobs in a random order (all input is read first); output follows that order')
    .option('--tag', "prefix each output line (stdout and stderr) with the job's arguments and a TAB")
    .option(
      '--tagstring <str>',
      'prefix each output line with STR ({} {1} {.} {/} {//} {/.} {#} {%} expanded) and a TAB',
    )
    .option(
      '--results <dir>',
      "GNU parallel's tree DIR/1/<value>/{seq,stdout,stderr} (output not printed); F.json: --json F.json",
    )
    .option(
      '--pipe',
      'cut stdin into blocks at record ends; each block is the stdin of one run of the command',
    )
    .option(
      '--block <size>',
      'with --pipe: bytes per block; K M G are 1024-based, k m g 1000-based, as GNU (default 1M)',
    )
    .option('--recstart <str>', 'with --pipe: a record starts with STR (\\n \\t \\0 escapes)')
    .option('--recend <str>', 'with --pipe: a record ends with STR (default \\n)')
    .addHelpText('after', HELP_AFTER)
    .showHelpAfterError('(run poolrun --help for usage)')
    .exitOverride()
    // Options after `worker` are the worker's; a root action lets a job file be the first argument.
    .enablePositionalOptions()
    .action(() => {});
  addWorkerCommand(program);
  return program;
}
