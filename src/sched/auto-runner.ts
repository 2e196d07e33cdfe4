/**
 * `-w auto` in a run: takes a reading every TICK_MS, follows the run's demand from the executor's events, and
 * moves the pool's width (Executor.setWidth) as sched/auto-width.ts decides. Every change is reported to
 * `onWidth` (the NDJSON events, the live view, the --report timeline), the starting width included.
 */
import type { ExecutorEvent } from '../executor/executor.js';
import type { RunObserver } from '../report/types.js';
import { initialWidth, TICK_MS, WidthController, type Limits } from './auto-width.js';
import { readMachine, type Reading } from './pressure.js';

export interface WidthChange {
  width: number;
  /** Epoch ms. */
  time: number;
  /** `start`, or what moved it: `idle`, `cpu`, `memory`, `io`. */
  why: string;
}

export interface AutoWidthOptions {
  limits: Limits;
  setWidth: (width: number) => void;
  onWidth: (change: WidthChange) => void;
  /** Where readings come from (tests); default: /proc, or POOLRUN_TEST_PROC_ROOT. */
  read?: () => Reading;
}

export class AutoWidth {
  private readonly controller: WidthController;
  private readonly running = new Set<number>();
  private readonly waiting = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly read: () => Reading;

  constructor(
    private readonly opts: AutoWidthOptions,
    start: number,
  ) {
    this.controller = new WidthController(opts.limits, start);
    this.read = opts.read ?? (() => readMachine());
    opts.setWidth(start);
    opts.onWidth({ width: start, time: Date.now(), why: 'start' });
    // The baseline reading: the first tick measures from it.
    this.controller.tick(this.read(), { running: 0, waiting: 0 });
    this.timer = setInterval(() => this.tick(), TICK_MS);
    // Never what keeps the program alive.
    this.timer.unref();
  }

  /** Follows the run: what waits and what runs. */
  event(e: ExecutorEvent): void {
    const i = e.job.index;
    switch (e.event) {
      case 'queued':
        this.waiting.add(i);
        return;
      case 'started':
        this.waiting.delete(i);
        this.running.add(i);
        return;
      case 'retry':
        this.running.delete(i);
        this.waiting.add(i);
        return;
      case 'finished':
        this.running.delete(i);
        this.waiting.delete(i);
        return;
      default:
        return;
    }
  }

  tick(): void {
    const before = this.controller.width;
    const d = this.controller.tick(this.read(), { running: this.running.size, waiting: this.waiting.size });
    if (d.width === before) return;
    this.opts.setWidth(d.width);
    this.opts.onWidth({ width: d.width, time: Date.now(), why: d.why });
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * `-w auto` for a CLI run: starts the controller on `ex` and adds it to the run's observers (it follows the jobs
 * through their events, and stops with the run's end); every width is told to the observers' `width()`.
 */
export function startAutoWidth(
  ex: { setWidth(n: number): void },
  auto: { max: number; cores: number },
  observers: RunObserver[],
): AutoWidth {
  const limits = { cores: auto.cores, max: auto.max };
  const a = new AutoWidth(
    {
      limits,
      setWidth: (n) => ex.setWidth(n),
      onWidth: (c) => {
        for (const o of observers) o.width?.(c.width, c.time, c.why);
      },
    },
    initialWidth(limits),
  );
  observers.push({ event: (e) => a.event(e), end: () => a.stop() });
  return a;
}
