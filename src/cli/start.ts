/**
 * The CLI's entry (bin/poolrun.js): the first worker (a thread, or a process with --mode process) starts before
 * the rest of poolrun loads (pool/prestart.ts), then main.ts is imported and run. `npm run build` bundles this
 * entry into dist/bundle/cli.cjs (scripts/build-bundle.mjs): this module and what it imports in one chunk, main.ts
 * and its static imports in a second.
 */
import { prestartWorker } from '../pool/prestart.js';

export async function start(argv: string[]): Promise<number> {
  prestartWorker(argv);
  const { main } = await import('./main.js');
  return main(argv);
}
