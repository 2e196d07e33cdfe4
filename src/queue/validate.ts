/**
 * A queue message is input like a job file: anyone who can write to the Redis can put anything in it. Before a
 * worker runs a message it is checked here: the envelope (WireJob), then the job with the job file's own schema
 * (jobs/schema.ts, the same ajv validator and messages) and normalize.ts's extra checks, then the fields only a
 * producer writes (kind, index, timeoutMs, retryDelayMs, absolute paths). Pure: no bullmq, no ioredis.
 *
 * Whoever can write to the Redis can still run any command a job file could: this stops malformed messages from
 * killing a worker, it is not an access control (that is Redis ACLs and TLS).
 */
import { formatPath, type Issue, type Segment } from '../jobs/issues.js';
import { jobIssues } from '../jobs/normalize.js';
import { checkJob } from '../jobs/schema.js';
import type { Job, JobResult } from '../kinds/types.js';
import { JOB_KINDS, kindOf } from '../kinds/index.js';
import { MAX_CAUSES } from '../kinds/outcome.js';
import { isPlainObject, typeName } from '../jobs/words.js';
import { WIRE_VERSION, type Progress, type WireJob } from './protocol.js';
import { MAX_VALUE_DEPTH } from '../pool/buffers.js';
import { MAX_TTL_MS } from '../util/duration.js';

/** Deepest nesting of arrays and objects a message may hold (a 100,000-deep value crashes structured clone). */
export const MAX_DEPTH = 256;
/** Most values (array items, object entries) a message may hold. */
const MAX_NODES = 1_000_000;
/** Longest setTimeout Node can wait (ms): timeouts and retry delays above it fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A result's time to live in Redis: at most a year. */

const MAX_CAPTURE = 2 ** 40;

const ENVELOPE_KEYS = ['v', 'runId', 'job', 'capture', 'ttlMs', 'halt', 'deadline'];
const CAPTURE_KEYS = ['limit', 'keep', 'stream'];
/** What a producer adds to a job as the job file has it (ids as strings, durations in ms). */
const WIRE_ONLY = ['kind', 'index', 'timeoutMs', 'retryDelayMs'];

/** The checked message, or the problems that refuse it (each names its field: `job.run[1]: expected …`). */
export function checkWireJob(
  data: unknown,
): { wire: WireJob; problems?: undefined } | { problems: string[] } {
  const problems: string[] = [];
  const say = (at: Segment[], message: string) =>
    problems.push(`${formatPath(at) || 'the message'}: ${message}`);
  const tooDeep = depthProblem(data);
  if (tooDeep) return { problems: [tooDeep] };
  if (!isPlainObject(data)) return { problems: [`the message: expected an object, got ${typeName(data)}`] };
  if (data.v !== WIRE_VERSION)
    return {
      problems: [`v: wire version ${JSON.stringify(data.v) ?? 'missing'}, this worker reads ${WIRE_VERSION}`],
    };
  for (const k of Object.keys(data)) if (!ENVELOPE_KEYS.includes(k)) say([k], 'unknown key');
  if (typeof data.runId !== 'string' || !/^[A-Za-z0-9_.-]{1,128}$/.test(data.runId))
    say(['runId'], `expected a run id (letters, digits, "_", "-", "."), got ${typeName(data.runId)}`);
  const capture = data.capture;
  if (!isPlainObject(capture)) say(['capture'], `expected an object, got ${typeName(capture)}`);
  else {
    for (const k of Object.keys(capture)) if (!CAPTURE_KEYS.includes(k)) say(['capture', k], 'unknown key');
    if (!isCount(capture.limit, MAX_CAPTURE))
      say(['capture', 'limit'], `expected a number of bytes, got ${typeName(capture.limit)}`);
    for (const k of ['keep', 'stream'])
      if (typeof capture[k] !== 'boolean')
        say(['capture', k], `expected true or false, got ${typeName(capture[k])}`);
  }
  if (!isCount(data.ttlMs, MAX_TTL_MS) || data.ttlMs === 0)
    say(['ttlMs'], `expected a time to live from 1ms to a year, got ${typeName(data.ttlMs)}`);
  if ('halt' in data && data.halt !== 'soon' && data.halt !== 'now')
    say(['halt'], `expected "soon" or "now", got ${typeName(data.halt)}`);
  if ('deadline' in data && data.deadline !== true)
    say(['deadline'], `expected true, got ${typeName(data.deadline)}`);
  problems.push(...jobProblems(data.job));
  if (problems.length) return { problems };
  return { wire: data as unknown as WireJob };
}

function jobProblems(job: unknown): string[] {
  const out: string[] = [];
  const say = (at: Segment[], message: string) => out.push(`${formatPath(at, 'job')}: ${message}`);
  if (!isPlainObject(job)) return [`job: expected an object, got ${typeName(job)}`];
  if (typeof job.id !== 'string') say(['id'], `expected a string, got ${typeName(job.id)}`);
  if (!isCount(job.index, Number.MAX_SAFE_INTEGER))
    say(['index'], `expected a position (an integer from 0), got ${typeName(job.index)}`);
  const kind = job.kind;
  if (typeof kind !== 'string' || !(JOB_KINDS as readonly string[]).includes(kind))
    say(['kind'], `expected one of ${JOB_KINDS.map((k) => `"${k}"`).join(', ')}, got ${typeName(kind)}`);
  else if (!(kind in job)) say([kind], `"${kind}" is required (the job's kind is "${kind}")`);
  if ('timeoutMs' in job && (!isCount(job.timeoutMs, MAX_TIMER_MS) || job.timeoutMs === 0))
    say(['timeoutMs'], `expected a duration from 1ms to 24.8 days in ms, got ${typeName(job.timeoutMs)}`);
  if ('retryDelayMs' in job && !isCount(job.retryDelayMs, MAX_TIMER_MS))
    say(['retryDelayMs'], `expected a delay from 0 to 24.8 days in ms, got ${typeName(job.retryDelayMs)}`);
  // The rest as a job file would hold it: the same schema, the same messages.
  // Keys copied as own properties: a `__proto__` key (JSON.parse makes it an own key) stays a key the schema
  // refuses, as in a job file, instead of setting the copy's prototype.
  const asWritten: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(job))
    if (!WIRE_ONLY.includes(k))
      Object.defineProperty(asWritten, k, { value: v, enumerable: true, writable: true });
  const issues: Issue[] = [...checkJob(asWritten), ...jobIssues(asWritten, [])];
  for (const i of issues) say(i.at, i.message);
  if (out.length) return out;
  // Paths: a producer sends them resolved; a relative one would be opened from wherever the worker runs.
  const j = job as unknown as Job;
  const paths: Array<[Segment[], string | undefined]> = [[['cwd'], j.cwd]];
  const jobKind = kindOf(j);
  for (const [at, p] of jobKind.paths?.(j) ?? []) paths.push([[j.kind, ...at], p]);
  for (const [at, p] of paths)
    if (p !== undefined && !p.startsWith('/')) say(at, `expected an absolute path, got ${typeName(p)}`);
  // What a job file may leave out gets the job file's default, as normalize.ts gives it.
  // (the kind's normalize, its paths taken as they are: they are absolute).
  Object.assign(
    j,
    jobKind.normalize((j as unknown as Record<string, unknown>)[j.kind], (p) => p),
  );
  return out;
}

function isCount(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}

/** Measured without recursion, so that a 100,000-deep value is refused instead of overflowing the stack. */
function depthProblem(value: unknown, max = MAX_DEPTH): string | undefined {
  const stack: Array<[unknown, number]> = [[value, 0]];
  let nodes = 0;
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= max) return `the message: nested deeper than ${max} levels`;
    const children = Array.isArray(v) ? v : Object.values(v);
    nodes += children.length;
    if (nodes > MAX_NODES) return `the message: more than ${MAX_NODES} values`;
    for (const c of children) stack.push([c, depth + 1]);
  }
  return undefined;
}

const STATUSES = ['succeeded', 'failed', 'timed-out', 'cancelled'];

/**
 * A result a worker sent (BullMQ's return value, a stored result, a retry's progress), checked before the
 * producer's reports use it: undefined when it is not a JobResult poolrun can show.
 */
export function checkResult(value: unknown): JobResult | undefined {
  // A call's value may nest as deep as a local run lets it (pool/buffers.ts), inside the result.
  if (depthProblem(value, MAX_VALUE_DEPTH + 2) || !isPlainObject(value)) return undefined;
  const r = value;
  const int = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v);
  const intOrNull = (v: unknown) => v === null || int(v);
  const textOrNull = (v: unknown) => v === null || typeof v === 'string';
  const error = r.error;
  const ok =
    typeof r.status === 'string' &&
    STATUSES.includes(r.status) &&
    typeof r.kind === 'string' &&
    (JOB_KINDS as readonly string[]).includes(r.kind) &&
    intOrNull(r.exitCode) &&
    textOrNull(r.signal) &&
    int(r.attempts) &&
    (r.attempts as number) >= 0 &&
    intOrNull(r.worker) &&
    intOrNull(r.pid) &&
    intOrNull(r.threadId) &&
    optional(r.host, (v) => typeof v === 'string') &&
    (r.startedAt === null || (typeof r.startedAt === 'string' && !Number.isNaN(Date.parse(r.startedAt)))) &&
    (r.durationMs === null || (typeof r.durationMs === 'number' && r.durationMs >= 0)) &&
    typeof r.stdout === 'string' &&
    typeof r.stderr === 'string' &&
    optional(r.stdoutTruncated, (v) => typeof v === 'boolean') &&
    optional(r.stderrTruncated, (v) => typeof v === 'boolean') &&
    optional(r.bytes, (v) => typeof v === 'number' && v >= 0) &&
    optional(r.usage, (v) => v === null || usageOk(v)) &&
    (error === null || errorOk(error, 0));
  return ok ? (r as unknown as JobResult) : undefined;
}

const optional = (v: unknown, ok: (v: unknown) => boolean) => v === undefined || ok(v);

/** A result's error (SerializedError), its causes too, at most MAX_CAUSES deep. */
function errorOk(error: unknown, depth: number): boolean {
  return (
    isPlainObject(error) &&
    typeof error.name === 'string' &&
    typeof error.message === 'string' &&
    optional(error.stack, (v) => typeof v === 'string') &&
    optional(error.code, (v) => typeof v === 'string') &&
    optional(
      error.props,
      (v) =>
        isPlainObject(v) &&
        Object.values(v).every(
          (p) =>
            typeof p === 'string' ||
            typeof p === 'boolean' ||
            p === null ||
            (typeof p === 'number' && Number.isFinite(p)),
        ),
    ) &&
    optional(error.cause, (v) => depth < MAX_CAUSES && errorOk(v, depth + 1))
  );
}

/** A result's `usage` (proc/spawn.ts): CPU milliseconds and a peak in KiB (or null), nothing else. */
function usageOk(u: unknown): boolean {
  const n = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (!isPlainObject(u) || Object.keys(u).some((k) => !['userMs', 'systemMs', 'maxRssKiB'].includes(k)))
    return false;
  return n(u.userMs) && n(u.systemMs) && (u.maxRssKiB === null || n(u.maxRssKiB));
}

/** A progress message a worker sent, checked: undefined when it is not one (it is then ignored). */
export function checkProgress(value: unknown): Progress | undefined {
  if (!isPlainObject(value)) return undefined;
  const p = value;
  const int = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!int(p.attempts) || !int(p.failures) || !int(p.attempt) || typeof p.time !== 'number') return undefined;
  switch (p.t) {
    case 'started':
      return int(p.worker) && int(p.pid) && int(p.threadId) && typeof p.host === 'string'
        ? (p as unknown as Progress)
        : undefined;
    case 'retry':
      return typeof p.delayMs === 'number' && p.delayMs >= 0 && checkResult(p.result)
        ? (p as unknown as Progress)
        : undefined;
    case 'output':
      return (p.stream === 'stdout' || p.stream === 'stderr') && typeof p.data === 'string'
        ? (p as unknown as Progress)
        : undefined;
    default:
      return undefined;
  }
}
