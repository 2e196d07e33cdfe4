/** What the reporters take of a run's options: the CLI's options are built to be one (cli/options.ts RunOptions). */
export type Order = 'input' | 'completion';
export type OutputMode = 'group' | 'stream' | 'none';
export type ReporterKind = 'auto' | 'tty' | 'plain' | 'ndjson';

export interface ReportOptions {
  /** --json: the results document (`-`: stdout). */
  json?: string;
  reporter: ReporterKind;
  /** --junit: JUnit XML (`-`: stdout). */
  junit?: string;
  /** --report: the HTML timeline of the run. */
  report?: string;
  joblog?: string;
  resume: boolean;
  resumeFailed: boolean;
  quiet: boolean;
  /** undefined: decide from the terminal and NO_COLOR/FORCE_COLOR. */
  color?: boolean;
  /** Where the jobs run, as the report names it: a local pool's mode, or set when a queue runs them. */
  mode: 'thread' | 'process';
  queue?: unknown;
}
