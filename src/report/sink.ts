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

export function processSink(): Sink {
  return {
    stdout: (d) => process.stdout.write(d),
    stderr: (d) => process.stderr.write(d),
    drained: () => Promise.all([flushed(process.stdout), flushed(process.stderr)]).then(() => undefined),
  };
}

/** Resolves when the stream has written everything queued before this call, or can write no more. */
export function flushed(s: NodeJS.WritableStream & Partial<NodeJS.WriteStream>): Promise<void> {
  if (s.destroyed || s.writableEnded || !s.writableLength) return Promise.resolve();
  // Writes complete in order: the callback of an empty write runs once everything before it is out.
  return new Promise((resolve) => {
    try {
      s.write('', () => resolve());
    } catch {
      resolve();
    }
  });
}
