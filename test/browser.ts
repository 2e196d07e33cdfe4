/// <reference lib="dom" />
// Functions given to page.evaluate() run in the page: these test files type-check them against the DOM.
/**
 * The distribution's Chromium (found on PATH), headless, for the --report tests: never a downloaded browser. A fresh profile folder per
 * launch; no network features (updates, sync, background fetches) that could make requests of their own.
 */
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TimelineData } from '../src/report/timeline-page.js';

/** The names a distribution's Chromium goes by, looked up on PATH in this order. */
const CHROMIUM_NAMES = ['chromium', 'chromium-browser'];

/**
 * The Chromium on PATH. Absent, the --report tests fail (they are not skipped) and say what to install.
 */
export function findChromium(path = process.env.PATH ?? ''): string {
  for (const name of CHROMIUM_NAMES)
    for (const dir of path.split(delimiter)) {
      if (!dir) continue;
      const file = join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        if (statSync(file).isFile()) return file;
      } catch {
        /* not here */
      }
    }
  throw new Error(
    `the --report tests need Chromium: none of ${CHROMIUM_NAMES.join(', ')} is on PATH (${path}); ` +
      'install it (Debian: apt-get install chromium) or put it on PATH',
  );
}

export interface Browser {
  context: BrowserContext;
  close: () => Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'poolrun-chromium-'));
  // launchPersistentContext passes --user-data-dir=<profile>; headless adds --headless.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: findChromium(),
    headless: true,
    viewport: { width: 1200, height: 700 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** What a page did besides drawing: console messages, script errors, requests, dialogs (alert()). */
export interface PageWatch {
  console: Array<{ type: string; text: string }>;
  errors: string[];
  requests: string[];
  dialogs: string[];
}

/** Opens a report file and waits for its script to have drawn the timeline; returns the page and what it did. */
export async function openReport(
  browser: Browser,
  file: string,
): Promise<{ page: Page; watch: PageWatch; ms: number }> {
  const page = await browser.context.newPage();
  const watch: PageWatch = { console: [], errors: [], requests: [], dialogs: [] };
  page.on('console', (m) => watch.console.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => watch.errors.push(e.message));
  page.on('request', (r) => watch.requests.push(r.url()));
  page.on('dialog', (d) => {
    watch.dialogs.push(d.message());
    void d.dismiss();
  });
  const t0 = performance.now();
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction(() => document.documentElement.dataset.ready === '1', null, { timeout: 30_000 });
  return { page, watch, ms: performance.now() - t0 };
}

/** The JSON block a report page draws from, read from the file (no browser needed). */
export function reportData(file: string): ReportData {
  const html = readFileSync(file, 'utf8');
  const m = /<script type="application\/json" id="poolrun-data">(.*?)<\/script>/s.exec(html);
  if (!m) throw new Error(`no data block in ${file}`);
  return JSON.parse(m[1]!) as ReportData;
}

/** The data a report page carries, as poolrun writes it. */
export type ReportData = TimelineData;

/** One attempt of a report, as a flat record. */
export function attempts(d: ReportData) {
  return d.a.job.map((j, i) => ({
    i,
    id: d.jobs.id[j]!,
    index: d.jobs.index[j]!,
    worker: d.laneWorkers[d.a.lane[i]!]!,
    status: d.statuses[d.a.st[i]!]!,
    n: d.a.n[i]!,
    start: d.a.start[i]!,
    dur: d.a.dur[i]!,
    exit: d.a.exit[i]!,
    signal: d.a.sig[i]!,
    note: d.a.note[i]! >= 0 ? d.texts[d.a.note[i]!] : undefined,
    tail: d.a.tail[i]! >= 0 ? d.texts[d.a.tail[i]!] : d.a.tail[i] === -2 ? 'not kept' : undefined,
  }));
}
