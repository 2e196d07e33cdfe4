/**
 * Two jobs of one input writing the same place (a copy's or a download's `to`) would race: one of them would
 * fail or, worse, both report success over each other's data. Such an input is refused before anything runs.
 * Places are compared after resolving (`a/../b`, `./b`, `b/`, a symlinked folder that exists), and a
 * destination inside another's (a copy of a tree to `out`, a download to `out/x`) counts as the same place.
 */
import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Job } from '../kinds/types.js';
import { kindOf } from '../kinds/index.js';

export interface Clash {
  /** The earlier job's index, and where it was found (a JSONL line), if the caller said. */
  first: number;
  firstLine?: number;
  message: string;
}

/** The destination a job writes, absolute, or undefined for a job that writes no file of its own. */
export function destinationOf(job: Job): string | undefined {
  return kindOf(job).destination?.(job);
}

export class Destinations {
  /** Each destination, and the job that writes it. */
  private readonly exact = new Map<string, { index: number; line?: number }>();
  /** Each folder that holds a destination, and the first job whose destination it holds. */
  private readonly holders = new Map<string, { index: number; line?: number; to: string }>();
  private readonly real = new Map<string, string>();

  /** Records the job's destination; returns the clash with an earlier job's, if there is one. */
  add(job: Job, line?: number): Clash | undefined {
    const to = destinationOf(job);
    if (to === undefined) return undefined;
    const place = this.canonical(to);
    const same = this.exact.get(place);
    if (same)
      return {
        first: same.index,
        firstLine: same.line,
        message: `writes the same destination as another job: ${to}`,
      };
    const holds = this.holders.get(place);
    if (holds) {
      return {
        first: holds.index,
        firstLine: holds.line,
        message: `writes ${to}, which holds another job's destination ${holds.to}`,
      };
    }
    for (let dir = dirname(place); ; dir = dirname(dir)) {
      const outer = this.exact.get(dir);
      if (outer) {
        return {
          first: outer.index,
          firstLine: outer.line,
          message: `writes inside another job's destination: ${to} is in ${dir}`,
        };
      }
      if (dir === dirname(dir)) break;
    }
    const entry = line === undefined ? { index: job.index } : { index: job.index, line };
    this.exact.set(place, entry);
    for (let dir = dirname(place); ; dir = dirname(dir)) {
      if (this.holders.has(dir)) break; // its own holders were recorded with it
      this.holders.set(dir, { ...entry, to });
      if (dir === dirname(dir)) break;
    }
    return undefined;
  }

  /** The path with its existing folders' symlinks resolved (`to` itself is not followed: it is replaced). */
  private canonical(to: string): string {
    const p = resolve(to);
    const dir = dirname(p);
    return dir === p ? p : join(this.realFolder(dir), basename(p));
  }

  private realFolder(dir: string): string {
    const known = this.real.get(dir);
    if (known !== undefined) return known;
    let out: string;
    try {
      out = realpathSync(dir);
    } catch {
      const parent = dirname(dir);
      out = parent === dir ? dir : join(this.realFolder(parent), basename(dir));
    }
    if (this.real.size > 100_000) this.real.clear();
    this.real.set(dir, out);
    return out;
  }
}
