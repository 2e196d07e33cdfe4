/** A shell job: a command string for /bin/sh, or an argv run as it is. */
export interface RunAction {
  kind: 'run';
  run: string | string[];
}
