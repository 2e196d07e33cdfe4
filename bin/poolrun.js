#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

const code = await main(process.argv.slice(2));
// Exit now: stdout and stderr writes to pipes and files are synchronous on POSIX, so nothing is lost, and no
// idle handle can keep a finished run alive.
process.exit(code);
