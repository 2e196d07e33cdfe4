/**
 * Two jobs of one input writing the same place (a copy's or a download's `to`) would race: one of them would
 * fail or, worse, both report success over each other's data. Such an input is refused before anything runs.
 * Places are compared after resolving (`a/../b`, `./b`, `b/`, a symlinked folder that exists), and a
 * destination inside another's (a copy of a tree to `out`, a download to `out/x`) counts as the same place.
 */
import { realpathSync } from 'node:fs';
import { followLinks } from '../util/atomic.js';
import { basename, dirname, join, resolve } from 'node:path';
import type { Job } from '../kinds/types.js';
import { kindOf } from '../kinds/index.js';

export interface Clash {
  /** The earlier job's index, and where it was found (a JSONL line), if the caller said; none for a run's file. */
  first?: number;
  firstLine?: number;
  message: string;
}

/** The destination a job writes, absolute, or undefined for a job that writes no file of its own. */
export function destinationOf(job: Job): string | undefined {
  return kindOf(job).destination?.(job);
}

/**
 * A file the run itself reads or writes (`--joblog log.txt`, the job file): no job may write it, nor a folder that
 * holds it (a copy replacing its tree would delete it), nor inside it (`--results res`).
 */
export interface OwnFile {
  /** How a message names it: `--joblog log.txt`, `the job file jobs.json`. */
  what: string;
  path: string;
}

export class Destinations {
  /** The run's own files (and each folder holding one), by place. */
  private readonly own = new Map<string, string>();
  private readonly ownHolders = new Map<string, string>();
  /** Each destination, and the job that writes it. */
  private readonly exact = new Map<string, { index: number; line?: number }>();
  /** Each folder that holds a destination, and the first job whose destination it holds. */
  private readonly holders = new Map<string, { index: number; line?: number; to: string }>();
  private readonly real = new Map<string, string>();

  constructor(own: readonly OwnFile[] = []) {
    for (const f of own) {
      // Where the run's file is as named, and, when it is a link, where the run really reads or writes.
      const named = this.canonical(f.path);
      const places = new Set([named]);
      try {
        places.add(realpathSync(f.path));
      } catch {
        // Absent: as named, and where a dangling link (a chain of them) would create it.
        places.add(this.canonical(followLinks(f.path)));
      }
      for (const place of places) {
        if (!this.own.has(place)) this.own.set(place, f.what);
        for (let dir = dirname(place); ; dir = dirname(dir)) {
          if (!this.ownHolders.has(dir)) this.ownHolders.set(dir, f.what);
          if (dir === dirname(dir)) break;
        }
      }
    }
  }

  /** Records the job's destination; returns the clash with an earlier job's, if there is one. */
  add(job: Job, line?: number): Clash | undefined {
    const to = destinationOf(job);
    if (to === undefined) return undefined;
    const place = this.canonical(to);
    if (this.own.size) {
      const clash = this.ownClash(place, to);
      if (clash) return clash;
    }
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

  private ownClash(place: string, to: string): Clash | undefined {
    const what = this.own.get(place);
    if (what !== undefined) return { message: `writes ${to}, which is ${what} of this run` };
    const held = this.ownHolders.get(place);
    if (held !== undefined) return { message: `writes ${to}, which holds ${held} of this run` };
    for (let dir = dirname(place); dir !== dirname(dir); dir = dirname(dir)) {
      const outer = this.own.get(dir);
      if (outer !== undefined) return { message: `writes ${to}, inside ${outer} of this run` };
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
