/**
 * A real HTTP server on 127.0.0.1 for the download tests, with the misbehaviours downloads must survive.
 * Routes (NAME is a file registered with `serve`):
 *   /ok/NAME            200 with Content-Length, ETag and Last-Modified; honours Range and If-Range (206/416)
 *   /status/CODE        that status
 *   /redirect/N/NAME    a chain of N 302s ending at /ok/NAME
 *   /to-file            a 302 to file:///etc/passwd
 *   /via/HOST/NAME      a 302 to /auth/NAME on HOST (same port): another origin when HOST is `localhost`
 *   /drop/NAME          the first plain GET sends half the body, then drops the connection; Range works after
 *   /norange/NAME       drops like /drop the first time, then ignores Range (always 200, whole body)
 *   /slow/NAME          honours Range, sends `slowChunk` bytes every `slowEveryMs`
 *   /hang-end/NAME      the first plain GET announces one byte more than it sends, then hangs; like /ok after
 *   /auth/NAME          like /ok, but only with Basic user:secret (else 401)
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from './helpers.js';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface LoggedRequest {
  path: string;
  range: string | undefined;
  ifRange: string | undefined;
  authorization: string | undefined;
  status: number;
  /** Bytes of body sent (or meant to be sent, for a dropped connection: what was written before the drop). */
  sent: number;
}

export interface TestServer {
  url: string;
  log: LoggedRequest[];
  /** TCP connections accepted so far. */
  connections: () => number;
  serve(name: string, data: Buffer): void;
  slowChunk: number;
  slowEveryMs: number;
  close(): Promise<void>;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic, incompressible-looking bytes. */
export function bytes(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A self-signed certificate for 127.0.0.1 (valid until 2126), made once with openssl for these tests. */
export const TLS_CERT = join(FIXTURES, 'tls', 'cert.pem');
const TLS_KEY = join(FIXTURES, 'tls', 'key.pem');

export async function startServer(opts: { tls?: boolean } = {}): Promise<TestServer> {
  const files = new Map<string, Buffer>();
  const dropped = new Set<string>();
  const log: LoggedRequest[] = [];
  let connections = 0;
  const lastModified = new Date('2024-01-01T00:00:00Z').toUTCString();
  const etagOf = (name: string) => `"${sha256(files.get(name)!).slice(0, 16)}"`;

  const state: TestServer = {
    url: '',
    log,
    connections: () => connections,
    serve: (name, data) => void files.set(name, data),
    slowChunk: 64 * 1024,
    slowEveryMs: 100,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const entry: LoggedRequest = {
      path,
      range: req.headers.range,
      ifRange: header(req, 'if-range'),
      authorization: req.headers.authorization,
      status: 0,
      sent: 0,
    };
    log.push(entry);
    const reply = (status: number, headers: Record<string, string | number> = {}, body?: Buffer) => {
      entry.status = status;
      entry.sent = body?.length ?? 0;
      res.writeHead(status, headers);
      res.end(body);
    };
    const [, route, a, b] = path.split('/');
    const name = route === 'redirect' || route === 'via' ? b : a;

    switch (route) {
      case 'status':
        return reply(Number(a), { 'content-type': 'text/plain' }, Buffer.from(`status ${a}\n`));
      case 'to-file':
        return reply(302, { location: 'file:///etc/passwd' });
      case 'via':
        return reply(302, { location: `${state.url.replace('127.0.0.1', a!)}/auth/${b}` });
      case 'redirect': {
        const n = Number(a);
        return reply(302, { location: n > 1 ? `/redirect/${n - 1}/${b}` : `/ok/${b}` });
      }
    }
    const data = name === undefined ? undefined : files.get(name);
    if (!data || !name) return reply(404, {}, Buffer.from('not found\n'));
    const common = { etag: etagOf(name), 'last-modified': lastModified, 'accept-ranges': 'bytes' };

    if (route === 'auth') {
      const want = `Basic ${Buffer.from('user:secret').toString('base64')}`;
      if (req.headers.authorization !== want)
        return reply(401, { 'www-authenticate': 'Basic realm="t"' }, Buffer.from('no\n'));
    }
    // A 206 that ends cleanly, short of the whole it names: 1000 bytes of the rest (the first request is `drop`).
    const shortRange = route === 'shortrange' && /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (shortRange) {
      const from = Number(shortRange[1]);
      const part = data.subarray(from, from + 1000);
      const range = `bytes ${from}-${from + part.length - 1}/${data.length}`;
      return reply(206, { ...common, 'content-length': part.length, 'content-range': range }, part);
    }
    if ((route === 'drop' || route === 'norange' || route === 'shortrange') && !dropped.has(name)) {
      dropped.add(name);
      entry.status = 200;
      res.writeHead(200, { ...common, 'content-length': data.length });
      const half = data.subarray(0, data.length >> 1);
      entry.sent = half.length;
      res.write(half, () => setTimeout(() => req.socket.destroy(), 50));
      return;
    }
    if (route === 'norange') return reply(200, { ...common, 'content-length': data.length }, data);
    if (route === 'hang-end' && !dropped.has(name)) {
      dropped.add(name);
      entry.status = 200;
      entry.sent = data.length;
      res.writeHead(200, { ...common, 'content-length': data.length + 1 });
      res.write(data);
      return; // never ends: the client's --timeout does
    }

    // Range and If-Range, as a static file server does.
    let start = 0;
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRange = header(req, 'if-range');
    if (range && (ifRange === undefined || ifRange === common.etag || ifRange === lastModified)) {
      start = Number(range[1]);
      if (start >= data.length) return reply(416, { ...common, 'content-range': `bytes */${data.length}` });
      status = 206;
    }
    const body = data.subarray(start);
    const headers: Record<string, string | number> = { ...common, 'content-length': body.length };
    if (status === 206) headers['content-range'] = `bytes ${start}-${data.length - 1}/${data.length}`;

    if (route === 'slow') {
      entry.status = status;
      res.writeHead(status, headers);
      let off = 0;
      let closed = false;
      res.on('close', () => (closed = true));
      const tick = () => {
        if (closed) return;
        const chunk = body.subarray(off, off + state.slowChunk);
        off += chunk.length;
        entry.sent += chunk.length;
        if (off >= body.length) res.end(chunk);
        else res.write(chunk, () => setTimeout(tick, state.slowEveryMs));
      };
      tick();
      return;
    }
    if (route === 'ok' || route === 'auth' || route === 'drop' || route === 'hang-end')
      return reply(status, headers, body);
    return reply(404, {}, Buffer.from('no such route\n'));
  };
  const server = opts.tls
    ? createTlsServer({ key: readFileSync(TLS_KEY), cert: readFileSync(TLS_CERT) }, handler)
    : createServer(handler);
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}
