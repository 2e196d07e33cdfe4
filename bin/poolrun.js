#!/usr/bin/env node
// The first worker (a thread, or a process with --mode process) starts while the rest of poolrun loads (see
// src/pool/prestart.ts).
import { prestartWorker } from '../dist/pool/prestart.js';

prestartWorker(process.argv.slice(2));
const { main } = await import('../dist/cli/main.js');

const code = await main(process.argv.slice(2));
// Exit now: main() returns once stdout and stderr have taken everything written, and no idle handle may keep a
// finished run alive.
process.exit(code);
