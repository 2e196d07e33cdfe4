// The floor for poolrun's native spawn path: `sh -c true` N times, S at once, through the posix_spawn addon
// (native/spawn.c) with each child's pipes read as sockets and the child reaped when they close, as
// src/proc/spawn-native.ts does, without anything else of poolrun.
import { createRequire } from 'node:module';
import { Socket } from 'node:net';

const addon = createRequire(import.meta.url)(
  new URL('../../native/build/poolrun_spawn.node', import.meta.url).pathname,
);
const n = Number(process.argv[2] ?? 1000);
const slots = Number(process.argv[3] ?? 2);
const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
let started = 0;
function next() {
  if (started >= n) return;
  started++;
  const r = addon.spawn('/bin/sh', ['/bin/sh', '-c', 'true'], env, null);
  if (typeof r === 'number') throw new Error(`spawn: errno ${-r}`);
  const [pid, outFd, errFd] = r;
  let open = 2;
  const closed = () => {
    if (--open) return;
    const reap = () => (addon.reap(pid) ? next() : setTimeout(reap, 1));
    reap();
  };
  for (const fd of [outFd, errFd]) {
    const s = new Socket({ fd, readable: true, writable: false });
    s.on('data', () => {});
    s.on('close', closed);
  }
}
for (let i = 0; i < slots; i++) next();
