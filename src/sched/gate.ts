/**
 * When the next job may start: --delay (at least DUR between two starts), --memfree (MemAvailable at least
 * SIZE; below half of it, the youngest running job is put back) and --load (1-minute load average below N).
 * Pure given its readings: the dispatcher asks, starts, and asks again when told to.
 */
import type { MachineReading } from './machine.js';

export interface GateOptions {
  delayMs?: number;
  /** Bytes. */
  memfree?: number;
  load?: number;
}

/** How often the machine is looked at again while memory or load holds the next start back. */
export const POLL_MS = 200;

export class StartGate {
  private lastStart = -Infinity;

  constructor(
    private readonly opts: GateOptions,
    private readonly read: () => MachineReading,
  ) {}

  /** Whether a gate is set at all. */
  get active(): boolean {
    return (this.opts.delayMs ?? 0) > 0 || this.opts.memfree !== undefined || this.opts.load !== undefined;
  }

  /** Whether memory is watched while jobs run (for eviction). */
  get watchesMemory(): boolean {
    return this.opts.memfree !== undefined;
  }

  /** undefined: a job may start now; else how many ms to wait before asking again. */
  wait(now: number): number | undefined {
    const delay = this.opts.delayMs ?? 0;
    if (delay > 0 && now - this.lastStart < delay) return Math.max(1, this.lastStart + delay - now);
    if (this.opts.memfree === undefined && this.opts.load === undefined) return undefined;
    const r = this.read();
    // A reading that cannot be made (no /proc) holds nothing back: the limits are about this machine.
    if (this.opts.memfree !== undefined && r.memAvailable !== undefined && r.memAvailable < this.opts.memfree)
      return POLL_MS;
    if (this.opts.load !== undefined && r.load1 !== undefined && r.load1 >= this.opts.load) return POLL_MS;
    return undefined;
  }

  /** A job was started at `now`. */
  started(now: number): void {
    this.lastStart = now;
  }

  /** Memory is below half of --memfree: the youngest running job should be put back. */
  mustEvict(): boolean {
    if (this.opts.memfree === undefined) return false;
    const m = this.read().memAvailable;
    return m !== undefined && m < this.opts.memfree / 2;
  }
}

const BINARY: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 };
const DECIMAL: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };

/**
 * GNU parallel's sizes: a number with K, M, G, T, P (×1024ⁿ) or k, m, g, t, p (×1000ⁿ); a bare number is bytes.
 * undefined when the text is not one, or is not from 1 byte to 2^53.
 */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([KMGTPkmgtp]?)\s*$/.exec(text);
  if (!m) return undefined;
  const unit = m[2] ? (BINARY[m[2]] ?? DECIMAL[m[2]]!) : 1;
  const n = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

/** `--load`: a number above 0, or N% of `cores` (100% is one per core). undefined when it is neither. */
export function parseLoad(text: string, cores: number): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(%?)\s*$/.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const load = m[2] ? (n * cores) / 100 : n;
  return Number.isFinite(load) && load > 0 && load <= 1e6 ? load : undefined;
}
