/** A JobResult as a `poolrun worker` sends it through the queue, for tests that stand in for one. */
export function jobResult(
  id: string,
  index: number,
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    index,
    kind: 'run',
    status: 'succeeded',
    exitCode: 0,
    signal: null,
    attempts: 1,
    worker: 1,
    pid: 1,
    threadId: 0,
    startedAt: new Date().toISOString(),
    durationMs: 1,
    stdout: '',
    stderr: '',
    value: null,
    error: null,
    ...over,
  };
}
