/**
 * The `after` field of a job, checked before anything runs: every id it names is a job of the same input, not
 * the job itself, and no chain of `after`s comes back to where it started. A job file (JSON, or a JSONL/lines
 * file read before the run) may name any of its jobs; a stream (stdin, a pipe) only jobs before it, since a
 * later line may never come.
 *
 * Memory: explicit ids are kept by name (as ids.ts does), a job named by its position costs a bit; only the
 * jobs that have an `after` are kept with their edges.
 */
import { isPlainObject } from './words.js';
import { checkableAfter } from './ids.js';
import type { Issue, Segment } from './issues.js';
import { redactId } from '../util/redact.js';

/** The ids a schema-valid `after` value names, as strings, each once, in the order written. */
export function afterIds(raw: unknown): string[] | undefined {
  if (!isPlainObject(raw) || !('after' in raw)) return undefined;
  const v = raw.after;
  const list = Array.isArray(v) ? v : [v];
  const out: string[] = [];
  for (const x of list) {
    const s = String(x);
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

/** Where a problem of an `after` is: the job, and the item of its array (undefined: `after` is one id). */
export interface AfterProblem {
  index: number;
  /** Position in the `after` array as written; undefined when `after` is a single id. */
  item: number | undefined;
  message: string;
  /** `file:line:col` of the `after` field, when the reader gave it (a JSONL line read before the check). */
  where?: string;
  /** The `after` is the file's `defaults.after` (the job has none of its own): `item` is a position in that. */
  inherited?: true;
  /** The job names itself (located at the job when its `after` is inherited: the job is what to change). */
  self?: true;
}

interface Edges {
  index: number;
  id: string;
  where: string | undefined;
  /** The ids as written (strings), with the array position of each. */
  refs: Array<{ id: string; item: number | undefined }>;
  /** The ids are the file's `defaults.after`, whose unknown ids the caller reports once (see afterIssues). */
  inherited: boolean;
}

export class AfterChecker {
  private readonly explicit = new Map<string, number>();
  private flags = new Uint8Array(1024);
  private count = 0;
  private readonly withAfter: Edges[] = [];

  /** `earlier`: a stream, where a job may only name jobs read before it. */
  constructor(private readonly mode: 'any' | 'earlier') {}

  /**
   * Records a job (every job, in input order, with its effective id) and checks what can be checked now.
   * `raw` is the job as written, schema-valid. `inherited`: its `after` is the file's `defaults.after`.
   */
  add(
    index: number,
    id: string,
    explicitId: string | undefined,
    raw: unknown,
    where?: string,
    inherited = false,
  ): AfterProblem[] {
    if (index >= this.flags.length) {
      const bigger = new Uint8Array(Math.max(this.flags.length * 2, index + 1));
      bigger.set(this.flags);
      this.flags = bigger;
    }
    if (explicitId !== undefined) {
      this.flags[index] = 1;
      if (!this.explicit.has(explicitId)) this.explicit.set(explicitId, index);
    }
    this.count = Math.max(this.count, index + 1);
    const ids = isPlainObject(raw) && 'after' in raw ? raw.after : undefined;
    if (ids === undefined) return [];
    const list = Array.isArray(ids) ? ids : [ids];
    const refs: Edges['refs'] = [];
    const problems: AfterProblem[] = [];
    list.forEach((x, k) => {
      const ref = String(x);
      const item = Array.isArray(ids) ? k : undefined;
      if (ref === id) {
        problems.push(
          inherited
            ? {
                index,
                item,
                inherited,
                self: true,
                message:
                  `a job cannot run after itself ("${redactId(ref)}"): it has no "after" of its own, so it ` +
                  'takes defaults.after; give it "after": [] to wait for nothing',
              }
            : { index, item, message: `a job cannot run after itself ("${ref}")` },
        );
        return;
      }
      if (this.mode === 'earlier' && this.resolve(ref) === undefined) {
        problems.push({
          index,
          item,
          ...(inherited ? { inherited } : {}),
          message:
            `unknown id "${ref}": no job before this one has it ` +
            '(a job read from a stream can only run after jobs read before it)',
        });
        return;
      }
      refs.push({ id: ref, item });
    });
    if (this.mode === 'any' && refs.length) this.withAfter.push({ index, id, where, refs, inherited });
    return problems;
  }

  /** The input has ended: unknown ids and cycles (a file only; a stream's were found as it was read). */
  end(): AfterProblem[] {
    const problems: AfterProblem[] = [];
    const edges = new Map<number, Array<{ to: number; item: number | undefined }>>();
    const ids = new Map<number, string>();
    const wheres = new Map<number, string>();
    const inherited = new Set<number>();
    for (const e of this.withAfter) {
      ids.set(e.index, e.id);
      if (e.inherited) inherited.add(e.index);
      const out: Array<{ to: number; item: number | undefined }> = [];
      for (const r of e.refs) {
        const to = this.resolve(r.id);
        if (to === undefined) {
          if (!e.inherited)
            problems.push({
              index: e.index,
              item: r.item,
              message: `unknown id "${redactId(r.id)}" (no job has it)`,
              ...(e.where === undefined ? {} : { where: e.where }),
            });
        } else out.push({ to, item: r.item });
      }
      edges.set(e.index, out);
      if (e.where !== undefined) wheres.set(e.index, e.where);
    }
    for (const cycle of findCycles(edges)) {
      const names = cycle.map((c) => `"${ids.get(c.index) ?? String(c.index + 1)}"`);
      names.push(names[0]!);
      const first = cycle[0]!.index;
      const where = wheres.get(first);
      // Located at the `after` that leaves the cycle's first job: defaults.after when that job takes it.
      const taking = cycle.filter((c) => inherited.has(c.index)).map((c) => `"${ids.get(c.index)!}"`);
      problems.push({
        index: first,
        item: cycle[0]!.item,
        message:
          `dependency cycle: ${names.join(' → ')} (each runs after the next` +
          (taking.length
            ? `; ${taking.join(', ')} ${taking.length > 1 ? 'take' : 'takes'} defaults.after, ` +
              'which "after": [] on a job opts out of)'
            : ')'),
        ...(inherited.has(first) ? { inherited: true as const } : {}),
        ...(where === undefined ? {} : { where }),
      });
    }
    return problems;
  }

  /** Whether a job with this id has been added. */
  has(ref: string): boolean {
    return this.resolve(ref) !== undefined;
  }

  /** The position of the job with this id, if one has been added. */
  private resolve(ref: string): number | undefined {
    const e = this.explicit.get(ref);
    if (e !== undefined) return e;
    const n = Number(ref);
    if (Number.isInteger(n) && n >= 1 && String(n) === ref && n - 1 < this.count && this.flags[n - 1] === 0)
      return n - 1;
    return undefined;
  }
}

/**
 * Cycles of a graph given by the out-edges of its nodes (an iterative depth-first search: chains of any length),
 * each as its nodes starting at its lowest index, with the edge item that leaves each node. At most 20.
 */
export function findCycles(
  edges: Map<number, Array<{ to: number; item: number | undefined }>>,
): Array<Array<{ index: number; item: number | undefined }>> {
  const WHITE = 0;
  const GREY = 1;
  const BLACK = 2;
  const color = new Map<number, number>();
  const cycles: Array<Array<{ index: number; item: number | undefined }>> = [];
  const starts = [...edges.keys()].sort((a, b) => a - b);
  for (const start of starts) {
    if ((color.get(start) ?? WHITE) !== WHITE) continue;
    // The path from start: node, the next edge to take, and the edge item that left it.
    const path: Array<{ node: number; next: number; item: number | undefined }> = [
      { node: start, next: 0, item: undefined },
    ];
    color.set(start, GREY);
    while (path.length) {
      const top = path[path.length - 1]!;
      const out = edges.get(top.node) ?? [];
      if (top.next >= out.length) {
        color.set(top.node, BLACK);
        path.pop();
        continue;
      }
      const edge = out[top.next++]!;
      top.item = edge.item;
      const c = color.get(edge.to) ?? WHITE;
      if (c === WHITE) {
        color.set(edge.to, GREY);
        path.push({ node: edge.to, next: 0, item: undefined });
      } else if (c === GREY && cycles.length < 20) {
        const from = path.findIndex((p) => p.node === edge.to);
        const cycle = path.slice(from).map((p) => ({ index: p.node, item: p.item }));
        const low = cycle.reduce((m, x, i) => (x.index < cycle[m]!.index ? i : m), 0);
        cycles.push([...cycle.slice(low), ...cycle.slice(0, low)]);
      }
    }
  }
  return cycles;
}

/**
 * `after` problems of a whole JSON document's jobs (schema-valid, ids unique), as issues to locate. A job without
 * an `after` of its own (a command string too) takes `defaults.after`: an unknown id of it is reported once, at
 * defaults.after; a job it names that does not opt out (`"after": []`) runs after itself, reported at the job.
 */
export function afterIssues(list: unknown[], prefix: Segment[], defaults?: unknown): Issue[] {
  const checker = new AfterChecker('any');
  const issues: Issue[] = [];
  const shared = isPlainObject(defaults) && checkableAfter(defaults) ? { after: defaults.after } : undefined;
  const toIssue = (p: AfterProblem): Issue => ({
    at: !p.inherited
      ? afterAt([...prefix, p.index], p.item)
      : p.self
        ? [...prefix, p.index]
        : afterAt(['defaults'], p.item),
    message: p.message,
  });
  list.forEach((raw, i) => {
    const own = explicitId(raw);
    const takes = shared && (typeof raw === 'string' || (isPlainObject(raw) && !('after' in raw)));
    // A job with other problems still holds its id; its own `after` is checked when it is valid itself.
    const checked = takes ? shared : checkableAfter(raw) ? raw : undefined;
    for (const p of checker.add(i, own ?? String(i + 1), own, checked, undefined, !!takes))
      issues.push(toIssue(p));
  });
  if (shared) {
    const v = shared.after;
    (Array.isArray(v) ? v : [v]).forEach((x, k) => {
      if (!checker.has(String(x)))
        issues.push({
          at: afterAt(['defaults'], Array.isArray(v) ? k : undefined),
          message: `unknown id "${redactId(String(x))}" (no job has it)`,
        });
    });
  }
  for (const p of checker.end()) issues.push(toIssue(p));
  return issues;
}

/** The id a job sets itself (as normalize.ts's explicitId; not imported from there, which imports this). */
function explicitId(raw: unknown): string | undefined {
  if (!isPlainObject(raw)) return undefined;
  const id = raw.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/** The path of an `after` (or of its item) under a job's path. */
export function afterAt(job: Segment[], item: number | undefined): Segment[] {
  return item === undefined ? [...job, 'after'] : [...job, 'after', item];
}

/** Column (1-based) of the `after` value in a JSONL line, found without parsing it again. */
export function afterColumn(text: string): number {
  const m = /"after"\s*:\s*/.exec(text);
  return m ? m.index + m[0].length + 1 : 1;
}
