/**
 * A live area at the bottom of a terminal, redrawn in place, with everything else the run prints scrolling
 * above it. Job output bound for the same terminal is held briefly and written between an erase of the area
 * and its redraw, all in order on the one terminal, so neither tears the other. Redraws happen at most ten
 * times a second; output is held at most that long (or until 64 KiB are waiting).
 *
 * Every line of the area is kept narrower than the terminal, so each takes exactly one row and the area can
 * be erased by moving up. When the terminal gets narrower, terminals that reflow (VTE, iTerm2, kitty, tmux,
 * Windows Terminal) re-wrap those rows: the erase counts the rows they now take. A resize is let settle first
 * (nothing is drawn or erased until the size has held for SETTLE_MS): while a window edge is dragged, each
 * erase would race the terminal's next reflow, and one counted for a width the terminal has already left moves
 * up into the scrollback and clears a line of it. Output waits for the settle too, unless 64 KiB are waiting.
 */
import { stripVTControlCharacters } from 'node:util';
import type { Sink } from './sink.js';
import { fit, width } from './width.js';

export interface TerminalStream {
  columns?: number;
  rows?: number;
  on(event: 'resize', listener: () => void): unknown;
  off(event: 'resize', listener: () => void): unknown;
}

/** Lines to show, each at most `columns - 1` wide (the screen cuts longer ones, dropping their colour). */
export type Render = (columns: number, rows: number, now: number) => string[];

const INTERVAL_MS = 100;
const SETTLE_MS = 150;
const HOLD_BYTES = 64 * 1024;
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const CLEAR_LINE = '\x1b[2K';
const UP = '\x1b[1A';

type Target = 'stdout' | 'stderr';

export class LiveScreen implements Sink {
  /** Display width of each line of the area as drawn (empty: nothing on screen). */
  private drawn: number[] = [];
  private drawnColumns = 0;
  private lastFrame = '';
  private pending: Array<{ to: Target; data: Buffer | string }> = [];
  private pendingBytes = 0;
  private atLineStart = true;
  private timer: NodeJS.Timeout | undefined;
  private live = false;
  private refreshing = false;
  private ok = true;
  /** Until then the terminal's size is not trusted to hold (a resize was seen): no drawing, no erasing. */
  private unsettledUntil = 0;
  private readonly onResize = () => this.resized();
  private readonly onExit = () => this.base.stderr(SHOW_CURSOR);

  constructor(
    private readonly base: Sink,
    private readonly term: TerminalStream,
    /** stdout is the same terminal: its writes are coordinated too. */
    private readonly stdoutIsTerm: boolean,
    private readonly render: Render,
  ) {}

  start(): void {
    if (this.live) return;
    this.live = true;
    this.base.stderr(HIDE_CURSOR);
    process.once('exit', this.onExit);
    this.term.on('resize', this.onResize);
    this.timer = setInterval(() => this.tick(), INTERVAL_MS);
    this.timer.unref();
    this.refresh(true);
  }

  /** Erases the area, writes what is held, and leaves the terminal as an ordinary one. */
  stop(): void {
    if (!this.live) return;
    clearInterval(this.timer);
    this.term.off('resize', this.onResize);
    this.refresh(false);
    this.live = false;
    if (!this.atLineStart) this.base.stderr('\n');
    this.atLineStart = true;
    this.base.stderr(SHOW_CURSOR);
    process.off('exit', this.onExit);
  }

  stdout(data: Buffer | string): boolean {
    if (!this.stdoutIsTerm) return this.base.stdout(data);
    return this.hold('stdout', data);
  }

  stderr(data: Buffer | string): boolean {
    return this.hold('stderr', data);
  }

  async drained(): Promise<void> {
    if (this.pending.length) this.refresh(false);
    await this.base.drained();
  }

  private hold(to: Target, data: Buffer | string): boolean {
    if (!this.live) {
      if (data.length) this.atLineStart = endsWithNewline(data);
      return to === 'stdout' ? this.base.stdout(data) : this.base.stderr(data);
    }
    if (!data.length) return this.ok;
    this.pending.push({ to, data });
    this.pendingBytes += data.length;
    // A lot waiting: out with it now; the area comes back at the next tick.
    if (this.pendingBytes >= HOLD_BYTES) this.refresh(false);
    return this.ok;
  }

  /** Erase the area, write held output, and (when `frame`) draw the area again: in as few writes as possible. */
  private refresh(frame: boolean): void {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      this.redraw(frame);
    } finally {
      this.refreshing = false;
    }
  }

  private redraw(frame: boolean): void {
    let { columns, lines, text } = this.frame(frame);
    if (frame && !this.pending.length && this.drawn.length && text === this.lastFrame) return;
    // Resized meanwhile (its 'resize' event, emitted now, finds us busy): draw at the new size.
    if (this.sizeChanged()) ({ columns, lines, text } = this.frame(frame));
    // What goes to stderr (the erase, job stderr, the area) is joined into one write between stdout writes.
    let toStderr: Buffer[] = [Buffer.from(this.erase())];
    const flushStderr = () => {
      this.write('stderr', Buffer.concat(toStderr));
      toStderr = [];
    };
    this.ok = true;
    for (const { to, data } of this.pending) {
      this.atLineStart = endsWithNewline(data);
      if (to === 'stderr') {
        toStderr.push(typeof data === 'string' ? Buffer.from(data) : data);
      } else {
        flushStderr();
        this.write('stdout', data);
      }
    }
    this.pending = [];
    this.pendingBytes = 0;
    if (frame && lines.length) {
      // A job's last line without a newline: end it, or the area would be drawn on top of it.
      if (!this.atLineStart) toStderr.push(Buffer.from('\n'));
      this.atLineStart = true;
      toStderr.push(Buffer.from(text));
      this.drawn = lines.map((l) => width(l));
      this.drawnColumns = columns;
      this.lastFrame = text;
    }
    flushStderr();
  }

  private frame(frame: boolean): { columns: number; lines: string[]; text: string } {
    const columns = this.columns();
    if (!frame) return { columns, lines: [], text: '' };
    const rows = this.term.rows && this.term.rows > 1 ? this.term.rows : 24;
    const lines = this.render(columns, rows, Date.now())
      .slice(0, Math.max(1, rows - 1))
      .map((l) => (width(l) <= columns - 1 ? l : fit(stripVTControlCharacters(l), columns - 1)));
    return { columns, lines, text: lines.join('\n') };
  }

  private write(to: Target, data: Buffer | string): void {
    if (!data.length) return;
    const ok = to === 'stdout' ? this.base.stdout(data) : this.base.stderr(data);
    this.ok &&= ok;
  }

  /** Back to the first row of the area, clearing each of its rows. */
  private erase(): string {
    if (!this.drawn.length) return '';
    const columns = this.columns();
    let rowsUsed = this.drawn.length;
    if (columns < this.drawnColumns) {
      rowsUsed = this.drawn.reduce((n, w) => n + Math.max(1, Math.ceil(w / columns)), 0);
    }
    this.drawn = [];
    this.lastFrame = '';
    // Line by line, not "erase below": tmux (scroll-on-clear) copies a screen cleared from its top into the
    // scrollback, which would fill it with old frames.
    return `\r${CLEAR_LINE}${`${UP}${CLEAR_LINE}`.repeat(rowsUsed - 1)}`;
  }

  /**
   * Asks the terminal for its size right before writing: a resize (and the terminal's reflow of what it
   * shows) can come before its SIGWINCH reaches us, and an erase counted at the old width would leave rows
   * behind. Node keeps the size it last saw; its _refreshSize() asks again (one ioctl) and emits 'resize'.
   */
  private sizeChanged(): boolean {
    const refreshSize = (this.term as { _refreshSize?: () => void })._refreshSize;
    if (typeof refreshSize !== 'function') return false;
    const before = `${this.term.columns}x${this.term.rows}`;
    refreshSize.call(this.term);
    return `${this.term.columns}x${this.term.rows}` !== before;
  }

  private resized(): void {
    this.unsettledUntil = Date.now() + SETTLE_MS;
  }

  /** The timer's redraw, once the size has held since the last resize. */
  private tick(): void {
    if (this.sizeChanged()) this.resized();
    if (Date.now() < this.unsettledUntil) return;
    this.refresh(true);
  }

  private columns(): number {
    const c = this.term.columns;
    return c && c > 1 ? c : 80;
  }
}

function endsWithNewline(d: Buffer | string): boolean {
  return typeof d === 'string' ? d.endsWith('\n') : d[d.length - 1] === 0x0a;
}
