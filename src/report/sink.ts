/**
 * Where a run's text goes. Writes to pipes are asynchronous in Node: whoever writes a lot (a job that printed
 * gigabytes, the --json document on stdout) waits for `drained()` when a write returns false, so poolrun never
 * holds more than a piece of it in memory, and nothing is lost when the process exits.
 */
export interface Sink {
  /** False: the data is queued; await `drained()` before writing much more. */
  stdout(data: Buffer | string): boolean;
  stderr(data: Buffer | string): boolean;
  /** Resolves once everything written so far has left the process (or the stream has failed). */
  drained(): Promise<void>;
}

/**
 * stdout and stderr of this process. A closed stdout (EPIPE: `poolrun … | head`), or one that cannot be written
 * (ENOSPC: `> /dev/full`, EIO), is reported once through `onStdoutClosed`, with the error's code; from then on
 * what is written there is dropped instead of crashing poolrun.
 */
export function processSink(onStdoutClosed: (code?: string) => void = () => {}): Sink {
  let stdoutOpen = true;
  let stderrOpen = true;
  const onStdoutError = (e: NodeJS.ErrnoException) => {
    if (!stdoutOpen) return;
    stdoutOpen = false;
    onStdoutClosed(e?.code);
  };
  const onStderrError = () => {
    stderrOpen = false;
  };
  // The listeners stay after the run: a write still in flight may fail then, and must not crash poolrun.
  process.stdout.on('error', onStdoutError);
  process.stderr.on('error', onStderrError);
  return {
    stdout: (d) => (stdoutOpen ? process.stdout.write(d) : true),
    stderr: (d) => (stderrOpen ? process.stderr.write(d) : true),
    drained: () => {
      // Asked once per piece of streamed output: nothing is allocated when nothing is waiting.
      const out = stdoutOpen ? flushed(process.stdout) : DONE;
      const err = stderrOpen ? flushed(process.stderr) : DONE;
      if (out === DONE) return err;
      if (err === DONE) return out;
      return Promise.all([out, err]).then(() => undefined);
    },
  };
}

const DONE = Promise.resolve();

/** Resolves when the stream has written everything queued before this call, or can write no more. */
export function flushed(s: NodeJS.WritableStream & Partial<NodeJS.WriteStream>): Promise<void> {
  if (s.destroyed || s.writableEnded || !s.writableLength) return DONE;
  // Writes complete in order: the callback of an empty write runs once everything before it is out.
  return new Promise((resolve) => {
    try {
      s.write('', () => resolve());
    } catch {
      resolve();
    }
  });
}
