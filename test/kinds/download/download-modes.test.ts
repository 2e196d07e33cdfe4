import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { poolrun, readJson, type ResultsDoc, useTempDirs, writeJobs } from '../../helpers.js';
import { bytes, startServer, type TestServer } from '../../download-server.js';

// A download that replaces a file never widens its permissions (contract §9): it keeps the old file's mode, as
// `curl -o` and `wget -O` do (they rewrite the file in place); a new file gets 0666 minus the umask.
let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});
const temp = useTempDirs();
const umask = process.umask();

describe.each(['thread', 'process'] as const)(
  'download over an existing file keeps its mode (%s mode)',
  (mode) => {
    it('every mode 0..0777 (and sticky) is kept; set-id bits are dropped; a new file or a replaced link gets the usual mode', async () => {
      const dir = temp();
      const data = bytes(5000, 3);
      server.serve(`m-${mode}.bin`, data);
      const url = `${server.url}/ok/m-${mode}.bin`;
      const cases: Array<[string, number | 'new' | 'link', number]> = [];
      for (let m = 0; m <= 0o777; m++) cases.push([`f${m.toString(8)}`, m, m]);
      cases.push(['sticky', 0o1640, 0o1640], ['setuid', 0o4755, 0o755], ['setgid', 0o2770, 0o770]);
      cases.push(['new', 'new', 0o666 & ~umask], ['link', 'link', 0o666 & ~umask]);
      writeFileSync(join(dir, 'target'), 'the link target');
      chmodSync(join(dir, 'target'), 0o600);
      for (const [name, before] of cases) {
        const f = join(dir, name);
        if (before === 'link') symlinkSync('target', f);
        else if (before !== 'new') {
          writeFileSync(f, 'old');
          chmodSync(f, before);
        }
      }
      const file = writeJobs(
        dir,
        cases.map(([name]) => ({ id: name, download: { url, to: name, overwrite: true } })),
      );
      const json = join(dir, 'out.json');
      const r = await poolrun(['-w', '4', '-m', mode, '--json', json, file]);
      expect(r.code, r.stderr).toBe(0);
      expect(readJson<ResultsDoc>(json).results.every((x) => x.status === 'succeeded')).toBe(true);
      const got = cases.map(([name]) => [name, (lstatSync(join(dir, name)).mode & 0o7777).toString(8)]);
      expect(got).toEqual(cases.map(([name, , want]) => [name, want.toString(8)]));
      for (const [name] of cases) {
        chmodSync(join(dir, name), 0o600);
        expect(readFileSync(join(dir, name)).equals(data), name).toBe(true);
      }
      // The link was replaced, not written through: its target is as it was.
      expect(readFileSync(join(dir, 'target'), 'utf8')).toBe('the link target');
      expect(lstatSync(join(dir, 'target')).mode & 0o777).toBe(0o600);
    });

    it.runIf(process.getuid?.() === 0)('as root, the replaced file keeps its owner too', async () => {
      const dir = temp();
      server.serve(`o-${mode}.bin`, bytes(100, 4));
      const owners: Array<[number, number]> = [
        [1234, 5678],
        [0, 0],
        [65534, 1],
      ];
      owners.forEach(([uid, gid], i) => {
        const f = join(dir, `o${i}`);
        writeFileSync(f, 'old');
        chownSync(f, uid, gid);
        chmodSync(f, 0o640);
      });
      const file = writeJobs(
        dir,
        owners.map((_, i) => ({
          download: { url: `${server.url}/ok/o-${mode}.bin`, to: `o${i}`, overwrite: true },
        })),
      );
      const r = await poolrun(['-m', mode, file]);
      expect(r.code, r.stderr).toBe(0);
      const got = owners.map((_, i) => {
        const st = lstatSync(join(dir, `o${i}`));
        return [st.uid, st.gid, st.mode & 0o7777, st.size];
      });
      expect(got).toEqual(owners.map(([uid, gid]) => [uid, gid, 0o640, 100]));
    });
  },
);
