// The floor for a Node runner: a bare child_process.spawn loop, `sh -c true` N times at S at once.
import { spawn } from 'node:child_process';

const n = Number(process.argv[2] ?? 1000);
const slots = Number(process.argv[3] ?? 2);
let started = 0;
function next() {
  if (started >= n) return;
  started++;
  spawn('/bin/sh', ['-c', 'true'], { stdio: 'ignore' }).on('close', next);
}
for (let i = 0; i < slots; i++) next();
