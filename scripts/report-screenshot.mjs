// Makes the README's picture of a --report page from a real run: runs docs/report-demo.json, keeps the page as
// docs/report-demo.html, and screenshots it in Debian's headless Chromium (never a downloaded browser) with the
// tooltip of a failed job open, as docs/report-demo.png. Run from anywhere: node scripts/report-screenshot.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const html = join(root, 'docs', 'report-demo.html');
const png = join(root, 'docs', 'report-demo.png');
try {
  execFileSync(
    process.execPath,
    ['bin/poolrun.js', '-w', '4', '--report', 'docs/report-demo.html', 'docs/report-demo.json'],
    { cwd: root, stdio: 'inherit', env: { ...process.env, NO_COLOR: '1' } },
  );
} catch (e) {
  // The demo fails on purpose (a lint error, a failed test, a timeout): exit status 1.
  if (e.status !== 1) throw e;
}

const profile = mkdtempSync(join(tmpdir(), 'poolrun-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1100, height: 500 },
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
try {
  const page = await context.newPage();
  await page.goto(pathToFileURL(html).href);
  await page.waitForFunction('document.documentElement.dataset.ready === "1"');
  // The tooltip of the failed API test: hit-test the middle of its bar.
  const box = await page.evaluate(`(() => {
    const d = JSON.parse(document.getElementById('poolrun-data').textContent);
    const i = d.a.job.findIndex((j) => d.jobs.id[j] === 'test-api');
    return window.poolrunReport.barBox(i);
  })()`);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForSelector('#tip:not([hidden])');
  await page.screenshot({ path: png });
  console.log(`wrote ${png}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
