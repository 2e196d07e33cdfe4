/**
 * GNU parallel's options that poolrun does not take, each with the nearest poolrun way. main.ts looks an unknown
 * option up here before commander reports it, so a user coming from GNU parallel reads what to write instead
 * (exit 2). An option poolrun defines is never looked up: the table may name options that are still to come.
 */
const REMOTE =
  'poolrun runs jobs on this machine, or on `poolrun worker`s with --queue redis://HOST:6379 (no ssh)';
const SEMAPHORE =
  'poolrun has no semaphore mode: give all the commands to one run (--each CMD, or a job file)';
const MULTI = 'poolrun runs one job per argument (several per job: -N n with {1}..{n})';
const SOURCES =
  "poolrun reads GNU's input sources as GNU does (:::, ::::, -a FILE, :::+ and --link, --colsep REGEX, --header :, -N/-n) with the separators fixed; for CSV with quoted fields or trimmed columns, clean the input first (or split it in the command)";
const REPLACE =
  "poolrun's replacement strings are fixed: {} {.} {/} {//} {/.} {#} {%}, {n} and its forms, {name} with --header :";
const MACHINE =
  'poolrun watches the machine with --memfree SIZE (start a job only while that much memory is available; below half of it, requeue the youngest job), --load N (start only while the load average is below N) and -w auto (size the pool to the machine); it neither suspends jobs nor watches swap, and runs no --limit command';

/** [names, meaning in GNU parallel, the poolrun way] */
const TABLE: ReadonlyArray<readonly [readonly string[], string]> = [
  [
    [
      '-S',
      '--sshlogin',
      '--sshloginfile',
      '--slf',
      '--ssh',
      '--ssh-delay',
      '--sshdelay',
      '--controlmaster',
      '-M',
      '--onall',
      '--nonall',
      '--transfer',
      '--transferfile',
      '--tf',
      '--trc',
      '--return',
      '--cleanup',
      '--basefile',
      '--bf',
      '--workdir',
      '--wd',
      '--filter-hosts',
      '--hostgroups',
      '--hgrp',
      '--rsync-opts',
      '--env',
      '--record-env',
      '--plain',
      '--profile',
      '-J',
    ],
    REMOTE,
  ],
  [
    [
      '--semaphore',
      '--sem',
      '--fg',
      '--bg',
      '--id',
      '--semaphore-name',
      '--semaphorename',
      '--semaphore-timeout',
      '--semaphoretimeout',
      '--st',
      '--wait',
    ],
    SEMAPHORE,
  ],
  [
    [
      '--xargs',
      '-X',
      '-s',
      '--max-chars',
      '-x',
      '--exit',
      '-L',
      '-l',
      '--max-lines',
      '--show-limits',
      '--max-line-length-allowed',
    ],
    MULTI,
  ],
  [['--arg-sep', '--arg-file-sep', '--csv', '--trim'], SOURCES],
  [
    [
      '-I',
      '-i',
      '--replace',
      '--extensionreplace',
      '--er',
      '-U',
      '--basenamereplace',
      '--bnr',
      '--dirnamereplace',
      '--dnr',
      '--basenameextensionreplace',
      '--bner',
      '--seqreplace',
      '--slotreplace',
      '--plus',
      '--rpl',
      '--parens',
    ],
    REPLACE,
  ],
  [['--memsuspend', '--noswap', '--limit'], MACHINE],
  [['--bs'], 'with --pipe, write --block SIZE'],
  [
    [
      '--pipe-part',
      '--pipepart',
      '--round-robin',
      '--round',
      '--shard',
      '--bin',
      '--group-by',
      '--regexp',
      '--remove-rec-sep',
      '--removerecsep',
      '--rrs',
      '--block-timeout',
      '--bt',
      '--cat',
      '--fifo',
      '--skip-first-line',
      '--tee',
    ],
    "poolrun's --pipe cuts stdin at fixed --recstart/--recend strings into --block SIZE or -N records and gives each block to a job's stdin; nothing more",
  ],
  [['--no-keep-order'], '--order completion prints each job as it finishes'],
  [
    ['-t', '-v'],
    '--dry-run prints each command; --joblog FILE records each run; --reporter ndjson streams events',
  ],
  [
    ['--quote', '--shellquote', '--shell-quote'],
    'poolrun quotes every substituted value for /bin/sh already; write the command as you would type it',
  ],
  [['--retry-failed'], '--joblog FILE --resume-failed re-runs the jobs the log records as failed'],
  [
    ['--timeout-pct'],
    '--timeout takes a duration or N% (a percentage of the median runtime of succeeded jobs)',
  ],
  [
    ['-p', '--interactive', '-o', '--open-tty', '--tty', '--tmux', '--tmuxpane'],
    'poolrun gives no job the terminal: jobs read nothing from it (stdin is empty)',
  ],
  [
    [
      '--files',
      '--output-as-files',
      '--outputasfiles',
      '--tmpdir',
      '--tempdir',
      '--compress',
      '--compress-program',
      '--decompress-program',
    ],
    "poolrun keeps output in memory up to --capture-limit and spills the rest to a deleted-on-exit temp file; --results DIR writes each job's output to files",
  ],
  [
    ['-d', '--delimiter', '-E', '--eof', '-e'],
    '--each reads one argument per line of stdin, or per NUL with -0',
  ],
  [
    ['--color', '--ctag', '--ctagstring', '--color-failed', '--cf'],
    'poolrun colours on a terminal by itself (--no-color, NO_COLOR turn it off); --tag and --tagstring tag lines',
  ],
  [['--nice'], 'run poolrun itself under nice: `nice -n 10 poolrun …` (jobs inherit it)'],
  [
    ['--process-slot-var'],
    'every job gets POOLRUN_WORKER (the slot, {%}) and POOLRUN_JOB_INDEX ({#}) in its environment',
  ],
  [
    ['--total-jobs', '--total'],
    'the live view counts the jobs itself and shows done/total once the input has ended',
  ],
  [
    [
      '--tollef',
      '--gnu',
      '--citation',
      '--bibtex',
      '--minversion',
      '--number-of-cpus',
      '--number-of-cores',
      '--number-of-sockets',
      '--number-of-threads',
      '--use-sockets-instead-of-threads',
      '--use-cores-instead-of-threads',
      '--use-cpus-instead-of-cores',
      '--shell-completion',
      '--embed',
      '--session',
      '--_parset',
      '--parset',
      '--env_parallel',
    ],
    'poolrun has no such option (-j N% uses the cores Node reports available)',
  ],
  [
    [
      '--sql',
      '--sql-master',
      '--sqlmaster',
      '--sql-worker',
      '--sqlworker',
      '--sql-and-worker',
      '--sqlandworker',
    ],
    'poolrun shares jobs between machines through Redis: --queue redis://HOST:6379 and `poolrun worker`',
  ],
  [['--template', '--tmpl'], 'generate the files in the command itself, or write a job file'],
  [
    [
      '--filter',
      '--shebang',
      '--hashbang',
      '--shebang-wrap',
      '--latest-line',
      '--ll',
      '--term-seq',
      '--silent',
    ],
    'poolrun has no such option',
  ],
];

const BY_NAME = new Map<string, string>();
for (const [names, way] of TABLE) for (const n of names) if (!BY_NAME.has(n)) BY_NAME.set(n, way);

const SEE = '(see "Coming from GNU parallel" in the README)';

/**
 * The message for an option written as `word` (`-X4`, `--sshlogin=x`), when GNU parallel has it; else undefined.
 * `names` are the long names of the GNU option `word` is an alias or abbreviation of (util/argv-split.ts), when
 * it is one: `--sema` is `--semaphore`.
 */
export function gnuOnlyOption(word: string, names: readonly string[] = []): string | undefined {
  const name = word.startsWith('--') ? word.split('=')[0]! : word.slice(0, 2);
  const way = BY_NAME.get(name);
  if (way !== undefined) return `${name} is a GNU parallel option that poolrun does not take: ${way} ${SEE}`;
  if (names.length === 0) return undefined;
  // A one-letter name (`--v`) is the table's `-v`.
  const wayOf = (n: string) => BY_NAME.get(n) ?? (n.length === 3 ? BY_NAME.get(n.slice(1)) : undefined);
  const known = names.map(wayOf).find((w) => w !== undefined);
  const what = names.includes(name) ? 'a GNU parallel option' : `GNU parallel's ${names[0]}`;
  return known !== undefined
    ? `${name} is ${what}, which poolrun does not take: ${known} ${SEE}`
    : `${name} is ${what}, which poolrun does not take ${SEE}`;
}

/** The message for an abbreviation of more than one option (util/argv-split.ts). */
export function ambiguousOption(word: string, names: readonly string[]): string {
  return `option ${word} is ambiguous: it begins ${names.join(', ')} (GNU parallel's and poolrun's long options may be abbreviated while only one begins so)`;
}

/** Names in the table (for tests). */
export const GNU_ONLY: readonly string[] = [...BY_NAME.keys()];
