/**
 * A folder copied into itself is refused, whatever way `to` leads there: by name (already refused), through a
 * symbolic link on the way (`to: link/x`, link → the source or a folder inside it, relative or absolute, a chain
 * of links), or through a bind mount (the temp tree met during the walk). Before, a link made the copy descend
 * into its own temp tree until names were too long (ENAMETOOLONG, with a 4 KB message). Nothing is left behind,
 * and the source is as it was. A link that leads elsewhere still copies.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { poolrun, readJson, useTempDirs, writeJobs } from '../../helpers.js';

const temp = useTempDirs();

/** Every file and folder under `dir`, relative, sorted. */
function tree(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    out.push(e.isDirectory() ? `${p}/` : p);
    if (e.isDirectory()) out.push(...tree(dir, p));
  }
  return out.sort();
}

/** Links made in `dir` (name → target) and the `to` that goes through them into `src`. */
const CASES: Array<{ name: string; links: Array<[string, string]>; to: string }> = [
  { name: 'link to the source', links: [['l', 'src']], to: 'l/inner' },
  { name: 'absolute link to the source', links: [['l', '@/src']], to: 'l/inner' },
  { name: 'link to a folder inside it', links: [['l', 'src/a']], to: 'l/inner' },
  { name: 'link to a folder inside it, deeper', links: [['l', 'src/a']], to: 'l/new/deeper/inner' },
  {
    name: 'a chain of links',
    links: [
      ['l1', 'l2'],
      ['l2', 'src'],
    ],
    to: 'l1/a/inner',
  },
  { name: 'link to the parent, back down', links: [['up', '.']], to: 'up/src/inner' },
];

describe('a folder copied into itself through a link or a mount is refused', () => {
  it('generated link shapes: failed, "into itself", nothing left, the source unchanged', async () => {
    for (const c of CASES) {
      const dir = temp();
      mkdirSync(join(dir, 'src/a/b'), { recursive: true });
      writeFileSync(join(dir, 'src/a/b/f'), 'data');
      writeFileSync(join(dir, 'src/top'), 'top');
      for (const [name, target] of c.links) symlinkSync(target.replace('@', dir), join(dir, name));
      const before = tree(join(dir, 'src'));
      const file = writeJobs(dir, [{ id: 'x', copy: { from: join(dir, 'src'), to: join(dir, c.to) } }]);
      const json = join(dir, 'out.json');
      const r = await poolrun(['--json', json, file], { cwd: dir });
      expect(r.code, `${c.name}: ${r.stderr}`).toBe(1);
      const [res] = readJson(json).results;
      expect(res!.error?.message, c.name).toMatch(/cannot copy the folder .* into itself/);
      expect(res!.error!.message.length, c.name).toBeLessThan(500);
      expect(tree(join(dir, 'src')), c.name).toEqual(before);
      expect(
        readdirSync(dir).filter((f) => f.includes('poolrun-tmp')),
        c.name,
      ).toEqual([]);
    }
  });

  it('a link that leads elsewhere still copies', async () => {
    const dir = temp();
    mkdirSync(join(dir, 'src/a'), { recursive: true });
    mkdirSync(join(dir, 'elsewhere'));
    writeFileSync(join(dir, 'src/a/f'), 'data');
    symlinkSync('elsewhere', join(dir, 'l'));
    const file = writeJobs(dir, [{ copy: { from: join(dir, 'src'), to: join(dir, 'l/inner') } }]);
    const r = await poolrun([file], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(tree(join(dir, 'elsewhere'))).toEqual(['inner/', 'inner/a/', 'inner/a/f']);
  });

  it.runIf(process.getuid?.() === 0)(
    'through a bind mount: the walk meets its own temp tree and stops',
    async (ctx) => {
      const dir = temp();
      mkdirSync(join(dir, 'src/sub'), { recursive: true });
      mkdirSync(join(dir, 'out'));
      writeFileSync(join(dir, 'src/f'), 'data');
      const mount = await execa('mount', ['--bind', join(dir, 'out'), join(dir, 'src/sub')], {
        reject: false,
      });
      if (mount.exitCode !== 0) ctx.skip(); // a container without CAP_SYS_ADMIN
      try {
        const file = writeJobs(dir, [
          { id: 'x', copy: { from: join(dir, 'src'), to: join(dir, 'out/inner') } },
        ]);
        const json = join(dir, 'out.json');
        const r = await poolrun(['--json', json, file], { cwd: dir });
        expect(r.code, r.stderr).toBe(1);
        expect(readJson(json).results[0]!.error?.message).toMatch(/into itself/);
        expect(readdirSync(join(dir, 'out'))).toEqual([]);
      } finally {
        await execa('umount', [join(dir, 'src/sub')], { reject: false });
      }
    },
  );
});
