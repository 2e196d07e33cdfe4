/**
 * What bin/poolrun.js did with V8's code cache for the CLI's bundled chunks (BENCHMARKS.md B6), for --verbose:
 * it leaves its counts on a global symbol when it runs the bundle.
 */
interface CodeCacheStats {
  used: number;
  rejected: number;
  none: number;
}

export function describeCodeCache(): string {
  const stats = (globalThis as Record<symbol, unknown>)[Symbol.for('poolrun.codeCache')] as
    CodeCacheStats | undefined;
  if (!stats) return 'code cache: not used (no start-up bundle: the files of dist/ run)';
  const { used, rejected, none } = stats;
  const parts = [`${used} chunk${used === 1 ? '' : 's'} compiled from it`];
  if (rejected) parts.push(`${rejected} rejected by V8 (another Node version or V8 flags) and compiled`);
  if (none) parts.push(`${none} without one`);
  return `code cache: ${parts.join(', ')}`;
}
