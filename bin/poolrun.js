#!/usr/bin/env node
// The CLI: dist/bundle/cli.js, its start path in three files (scripts/build-bundle.mjs), or dist/cli/start.js,
// the same program from its ~70 files where the build made no bundle, or made it before the files (a bare `tsc`
// after `npm run build`; a copy of the package may reorder the times by a little).
import { statSync } from 'node:fs';

const mtime = (path) => statSync(new URL(path, import.meta.url), { throwIfNoEntry: false })?.mtimeMs;
const bundle = mtime('../dist/bundle/cli.js');
const fresh = bundle !== undefined && bundle >= (mtime('../dist/cli/start.js') ?? 0) - 2000;
const { start } = await import(fresh ? '../dist/bundle/cli.js' : '../dist/cli/start.js');

const code = await start(process.argv.slice(2));
// Exit now: main() returns once stdout and stderr have taken everything written, and no idle handle may keep a
// finished run alive.
process.exit(code);
