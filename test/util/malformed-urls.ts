/**
 * Values meant as URLs that do not parse (a space, a bad port, no scheme, `scheme :/`): a message quoting one
 * must still lose its user, password, query values and fragment.
 */
export function malformedUrls(count: number, seed = 11): { url: string; secrets: string[] }[] {
  let s = seed;
  const rnd = (n: number) => ((s = (s * 1103515245 + 12345) & 0x7fffffff), s % n);
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
  const out: { url: string; secrets: string[] }[] = [];
  for (let i = 0; i < count; i++) {
    const secrets: string[] = [];
    const secret = () => {
      const v = `S${i}x${secrets.length}${pick(['', '%20', '%zz', 'é', ' ', '+', '::', '//'])}K${rnd(1e6)}`;
      secrets.push(v);
      return v;
    };
    const scheme = pick([
      'http://',
      'https://',
      'HTTP://',
      'http ://',
      'http:/',
      'ftp://',
      '//',
      '',
      'http:// ',
    ]);
    const user = pick(['', `u:${secret()}@`, `${secret()}@`, `us er:${secret()}@`, `:${secret()}@`]);
    const host = pick(['exa mple.com', 'h', '[::1', 'h.example', '127.0.0.1', 'h%zz', 'h\t']);
    const port = pick(['', ':99999', ':8x', ':', ':80', ': 1']);
    const path = pick(['', '/', '/a b', '/%zz', '/p;x=1', '/a/../b']);
    const query = pick([
      '',
      `?t=${secret()}`,
      `?a=${secret()}&b=${secret()}`,
      `?${secret()}`,
      `?x=1;y=${secret()}`,
    ]);
    const fragment = pick(['', `#${secret()}`, `#a=${secret()}`]);
    out.push({ url: `${scheme}${user}${host}${port}${path}${query}${fragment}`, secrets });
  }
  return out;
}
