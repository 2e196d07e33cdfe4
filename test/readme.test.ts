import { describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { ROOT } from './helpers.js';

/** The README's examples are what users copy: they must run as written. */
describe('README', () => {
  it('the library example runs and prints what it says', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## The library'));
    const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toBeDefined();
    // Saved next to examples/ as the comment says; `import 'poolrun'` resolves to this package (self-reference).
    const file = join(ROOT, `.readme-demo-${process.pid}.mjs`);
    writeFileSync(file, code!);
    try {
      const r = await execa(process.execPath, [file], { cwd: ROOT, reject: false });
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(r.stdout.split('\n')).toEqual(
        expect.arrayContaining(['25', 'succeeded hi', '1', '4', '9', '16']),
      );
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('starts with the two set-up commands', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstBlock).toMatch(/^npm install && \.\/bin\/poolrun\.js .*jobs\.example\.json/m);
    expect(firstBlock).toMatch(/^npm test/m);
  });
});
