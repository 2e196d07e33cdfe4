/**
 * What a worker thread evaluates before it says it is ready has no top-level await. Node 20's V8 aborts the whole
 * process ("Check failed: (location_) != nullptr", in SourceTextModule::ExecuteAsyncModule) when a thread is
 * terminated while it runs the synchronous start of a module that has one; process.exit(), the pool and the
 * executor's shutdown all terminate threads that may still be starting. It was seen once in ~600 runs of a bad job
 * file under load (the CLI's pre-started thread, ended by process.exit(2)): too rare for a run to show, so the
 * graph itself is read, from the built worker entry through its static imports and its import('…') of a literal.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAst } from 'rolldown/parseAst';

type Node = { type: string; [k: string]: unknown };

/** The top-level awaits of a module (outside every function), and the specifiers it imports. */
export function readModule(source: string): { awaits: string[]; imports: string[] } {
  const ast = parseAst(source, { sourceType: 'module' }) as unknown as { body: Node[] };
  const awaits: string[] = [];
  const imports: string[] = [];
  const walk = (n: unknown, top: boolean): void => {
    if (Array.isArray(n)) return n.forEach((c) => walk(c, top));
    if (!n || typeof n !== 'object' || typeof (n as Node).type !== 'string') return;
    const node = n as Node;
    const source = node.source as Node | undefined;
    if (/^(Import|Export(Named|All))Declaration$/.test(node.type) && typeof source?.value === 'string')
      imports.push(source.value);
    if (node.type === 'ImportExpression' && source?.type === 'Literal' && typeof source.value === 'string')
      imports.push(source.value);
    const inner = top && !/Function/.test(node.type);
    if (inner && (node.type === 'AwaitExpression' || (node.type === 'ForOfStatement' && node.await === true)))
      awaits.push(`${node.type} at ${String(node.start)}`);
    for (const [k, v] of Object.entries(node)) if (k !== 'type') walk(v, inner);
  };
  walk(ast.body, true);
  return { awaits, imports };
}

describe('the modules a worker thread evaluates before it is ready', () => {
  it('the reader finds a top-level await, and none inside functions', () => {
    expect(readModule('await x; for await (const a of b) {}').awaits).toHaveLength(2);
    expect(readModule('async function f() { await x } const g = async () => { await y };').awaits).toEqual(
      [],
    );
    expect(
      readModule("import a from './a.js'; export * from './b.js'; const m = () => import('./c.js');").imports,
    ).toEqual(['./a.js', './b.js', './c.js']);
  });

  it('have no top-level await (a thread terminated while starting would abort the process)', () => {
    const entry = new URL('../../dist/pool/worker-main.js', import.meta.url);
    const seen = new Set<string>();
    const withAwait: string[] = [];
    const bare: string[] = [];
    const visit = (url: URL): void => {
      if (seen.has(url.href)) return;
      seen.add(url.href);
      const { awaits, imports } = readModule(readFileSync(fileURLToPath(url), 'utf8'));
      if (awaits.length) withAwait.push(`${fileURLToPath(url)}: ${awaits.join(', ')}`);
      for (const spec of imports) {
        if (spec.startsWith('.')) visit(new URL(spec, url));
        else if (!spec.startsWith('node:')) bare.push(spec);
      }
    };
    visit(entry);
    expect(withAwait).toEqual([]);
    // A package would have to be read too: none is imported today, and a new one must be looked at.
    expect(bare).toEqual([]);
    // The kinds' worker halves, loaded by import() before 'ready', are part of it.
    expect([...seen].some((u) => u.includes('/kinds/run/'))).toBe(true);
    expect(seen.size).toBeGreaterThan(20);
  });
});
