import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chmodSync,
  chownSync,
  lstatSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { poolrun, readJson, type ResultsDoc, useTempDirs, waitFor, writeJobs } from '../../helpers.js';
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

// While a download is written, its part holds the new data: it must be readable by no one else, whatever the
// file it replaces or the umask (a reader that opens it then could read all of it later). Before, it was created
// 0666 minus the umask (0644 here) and got the kept mode only at the end.
describe.each(['thread', 'process'] as const)('the part is private while it is written (%s mode)', (mode) => {
  it('over a 0600 file, a 0644 file and a new name: the .part is 0600 until it is placed with its mode', async () => {
    const dir = temp();
    const data = bytes(300_000, 9);
    const cases: Array<[string, number | undefined, number]> = [
      ['secret', 0o600, 0o600],
      ['shared', 0o644, 0o644],
      ['fresh', undefined, 0o666 & ~umask],
    ];
    // One name per job: /hang-end/ hangs only the first request for a name.
    for (const [to, before] of cases) {
      server.serve(`private-${to}-${mode}.bin`, data);
      if (before === undefined) continue;
      writeFileSync(join(dir, to), 'old');
      chmodSync(join(dir, to), before);
    }
    // /hang-end/ sends the whole body but never ends it: the part is there, full, until the timeout.
    const file = writeJobs(
      dir,
      cases.map(([to]) => ({
        id: to,
        download: { url: `${server.url}/hang-end/private-${to}-${mode}.bin`, to, overwrite: true },
      })),
    );
    const run = poolrun(['-w', '3', '-m', mode, '--timeout', '3s', '--retries', '1', file], { cwd: dir });
    const parts = () => readdirSync(dir).filter((f) => f.endsWith('.part'));
    expect(await waitFor(() => parts().length === 3, 30_000)).toBe(true);
    // Written as far as the server sent it, and private.
    expect(
      await waitFor(() => parts().every((p) => lstatSync(join(dir, p)).size === data.length), 30_000),
    ).toBe(true);
    const seen = parts().map((p) => [p.split('.')[0], (lstatSync(join(dir, p)).mode & 0o777).toString(8)]);
    expect(seen.sort()).toEqual(cases.map(([to]) => [to, '600']).sort());
    // The retry finds the part whole (416) and places it with the mode it should have.
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    const got = cases.map(([to]) => [to, (lstatSync(join(dir, to)).mode & 0o777).toString(8)]);
    expect(got).toEqual(cases.map(([to, , want]) => [to, want.toString(8)]));
    for (const [to] of cases) expect(readFileSync(join(dir, to)).equals(data), to).toBe(true);
  }, 120_000);
});

// Fresh-eyes probe: a part kept for the next attempt after a response that ended cleanly but short (a 206 naming
// more than it sent) had already been given the file's final mode (0644 here), not the 0600 of a part.
describe.each(['thread', 'process'] as const)('a part kept to be resumed stays private (%s mode)', (mode) => {
  it('cut off, then a short 206: the run fails, the part is kept, 0600', async () => {
    const dir = temp();
    const data = bytes(200_000, 4);
    server.serve(`short-${mode}.bin`, data);
    const file = writeJobs(dir, [
      { download: { url: `${server.url}/shortrange/short-${mode}.bin`, to: 'out' } },
    ]);
    const r = await poolrun(['-m', mode, '--retries', '1', file], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/the next attempt resumes/);
    const part = readdirSync(dir).find((f) => f.endsWith('.part'));
    expect(part, readdirSync(dir).join(' ')).toBeDefined();
    expect(lstatSync(join(dir, part!)).size).toBe((data.length >> 1) + 1000);
    expect((lstatSync(join(dir, part!)).mode & 0o777).toString(8)).toBe('600');
  });
});
