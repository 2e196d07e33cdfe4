/**
 * Locations for problems: the slow path, taken only when a file has a problem. @humanwhocodes/momoa parses
 * the text again keeping line and column on every node; it is loaded on demand (a valid file never pays for
 * it) through require(), so that callers stay synchronous.
 */
import { createRequire } from 'node:module';
import type * as MomoaModule from '@humanwhocodes/momoa';
import type { DocumentNode, ValueNode } from '@humanwhocodes/momoa';
import { isSecretName } from '../util/redact.js';
import type { JobFileProblem } from '../errors.js';
import type { Issue, Segment } from './issues.js';

type Momoa = typeof MomoaModule;
let momoa: Momoa | undefined;
function loadMomoa(): Momoa {
  momoa ??= createRequire(import.meta.url)('@humanwhocodes/momoa') as Momoa;
  return momoa;
}

/**
 * Texts longer than this are not parsed by momoa (a node per value: ~40 bytes of memory per byte of text). A
 * problem in one is placed by JSON.parse's position, or at its line; a big document is located job by job
 * (jobSpans), so this is reached only by a single job (a JSONL line) that big.
 */
const MOMOA_LIMIT = 1024 * 1024;

/** Where a text sits in its file: its first line's number, and the column its first character is in. */
export interface Origin {
  name: string;
  line: number;
  column: number;
}

export const FILE_START = (name: string): Origin => ({ name, line: 1, column: 1 });

function where(o: Origin, line: number, column: number): string {
  return `${o.name}:${o.line + line - 1}:${line === 1 ? o.column + column - 1 : column}`;
}

/** A text that JSON.parse rejected: say where and what, in words. */
export function syntaxProblem(
  text: string,
  origin: Origin,
  parseError: unknown,
  jsonl = false,
): JobFileProblem {
  if (text.trim() === '')
    return { where: where(origin, 1, 1), message: 'expected a JSON value, got nothing' };
  const parseMessage = (parseError as Error)?.message ?? String(parseError);
  const afterValue = /after JSON/.test(parseMessage);
  // Stopped at the end of the text (`[{"run":"true"}`: a `]` missing): say so there, not at the last good token.
  const stop = /at position (\d+)/.exec(parseMessage);
  if (stop && Number(stop[1]) >= text.trimEnd().length) {
    const [line, column] = lineColumn(text, text.trimEnd().length);
    return {
      where: where(origin, line, column),
      message: 'not valid JSON: the text ends too early (is it truncated?)',
    };
  }
  try {
    if (text.length > MOMOA_LIMIT) throw new Error('too big to parse again');
    loadMomoa().parse(text, { mode: 'json' });
  } catch (e) {
    const err = e as Error & { line?: number; column?: number; offset?: number };
    if (typeof err.line === 'number' && typeof err.column === 'number') {
      return {
        where: where(origin, err.line, err.column),
        message: `not valid JSON: ${describeSyntax(text, err.offset ?? -1, err.message, afterValue, jsonl)}`,
      };
    }
  }
  // momoa accepted what JSON.parse did not (a raw control character in a string): use JSON.parse's position.
  const pos = /at position (\d+)/.exec(parseMessage);
  const [line, column] = pos ? lineColumn(text, Number(pos[1])) : [1, 1];
  return {
    where: where(origin, line, column),
    message: `not valid JSON: ${parseMessage.replace(/ in JSON at position \d+.*$/, '').replace(/^Bad/, 'bad')}`,
  };
}

function describeSyntax(
  text: string,
  offset: number,
  momoaMessage: string,
  afterValue: boolean,
  jsonl: boolean,
): string {
  const ch = text[offset];
  const before = text.slice(0, Math.max(0, offset)).trimEnd();
  const shown =
    ch === undefined ? 'end of text' : ch === '\n' ? 'a line break' : ch === '"' ? 'a string' : `"${ch}"`;
  if (/end of input/i.test(momoaMessage)) return 'the text ends too early (is it truncated?)';
  if ((ch === ']' || ch === '}') && before.endsWith(',')) return `trailing comma before "${ch}"`;
  if (ch === ',' && text.slice(offset + 1).trim() === '') return 'the text ends too early (is it truncated?)';
  if (afterValue) {
    if (ch !== '{' && ch !== '[') return `unexpected ${shown} after the end of the JSON value`;
    return jsonl
      ? 'a second JSON value after the first on this line (JSONL is one job per line)'
      : 'a second JSON value after the first (one job per line is JSONL: name the file .jsonl, or pass --format jsonl)';
  }
  if (ch === '\uFEFF') return 'a byte-order mark (U+FEFF) in the middle of the text';
  if (ch === "'") return 'strings need double quotes, not single quotes';
  if (ch === '/') return 'JSON has no comments';
  if (ch !== undefined && /["{[\d-]/.test(ch) && /["}\]\del]$/.test(before))
    return `a comma is missing before ${shown}`;
  const token = /^[A-Za-z_$][\w$]*/.exec(text.slice(offset))?.[0];
  if (token) {
    // The value of a secret-named key (`"API_KEY": Zq9…`, quotes forgotten) is not echoed back.
    const key = /"((?:[^"\\\n]|\\.)*)"\s*:$/.exec(before.slice(-300))?.[1];
    const word = key !== undefined && isSecretName(key) ? `(the value of "${key}", not shown)` : `"${token}"`;
    return `unexpected word ${word} (strings need double quotes; true, false and null are lower case)`;
  }
  return `unexpected ${shown}`;
}

export function lineColumn(text: string, offset: number): [number, number] {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return [line, offset - start + 1];
}

/**
 * Locates issues found in `text` (already parsed by JSON.parse, so momoa parses it too) and names each by
 * its display path.
 */
export function locateIssues(
  text: string,
  origin: Origin,
  issues: Issue[],
  displayPath: (at: Segment[]) => string,
): JobFileProblem[] {
  let doc: DocumentNode | undefined;
  try {
    doc = text.length > MOMOA_LIMIT ? undefined : loadMomoa().parse(text, { mode: 'json' });
  } catch {
    doc = undefined;
  }
  const locate = (at: Segment[], key = false) => {
    if (!doc) return `${origin.name}:${origin.line}`;
    const loc = findLocation(doc.body, at, key);
    return where(origin, loc.line, loc.column);
  };
  return issues.map((i) => {
    const p: JobFileProblem = { where: locate(i.locateAt ?? i.at, i.key), message: i.message };
    const path = displayPath(i.at);
    if (path) p.path = path;
    if (i.first) {
      const firstWhere = i.first.where ?? locate(i.first.at);
      p.message += ` (first used by ${i.first.path} at ${firstWhere})`;
    }
    return p;
  });
}

type ObjectNode = Extract<ValueNode, { type: 'Object' }>;
type MemberNode = ObjectNode['members'][number];
const memberMaps = new WeakMap<ObjectNode, Map<string, MemberNode>>();

/**
 * An object's members by key, built once per object: an object of many unknown keys has as many issues, and
 * a search of its members for each would be quadratic (20,000 keys took seconds).
 */
function membersOf(node: ObjectNode): Map<string, MemberNode> {
  let map = memberMaps.get(node);
  if (!map) {
    map = new Map();
    // JSON.parse keeps the last of duplicate keys; so does this.
    for (const m of node.members) if (m.name.type === 'String') map.set(m.name.value, m);
    memberMaps.set(node, map);
  }
  return map;
}

/** The deepest node along `at` that exists (a missing key points at its object). */
function findLocation(node: ValueNode, at: Segment[], key: boolean): { line: number; column: number } {
  let cur = node;
  for (let k = 0; k < at.length; k++) {
    const s = at[k]!;
    if (cur.type === 'Object') {
      const m = membersOf(cur).get(String(s));
      if (!m) break;
      if (key && k === at.length - 1) return m.name.loc.start;
      cur = m.value;
    } else if (cur.type === 'Array' && typeof s === 'number' && cur.elements[s]) {
      cur = cur.elements[s].value;
    } else break;
  }
  return cur.loc.start;
}

/**
 * Where the jobs at `wanted` positions are in a JSON document's text, as [start, end) offsets: the elements of
 * the root array, or of the root object's (last) "jobs" array. A scan, not a parse: it lets a big document with
 * a few problems be located one job at a time, instead of building a node for every value of it (momoa took
 * 20 s and 1.3 GB for a 30 MB file with one unknown key). A "jobs" key written with escapes is not found:
 * the caller then locates in the whole text.
 */
export function jobSpans(
  text: string,
  rootIsArray: boolean,
  wanted: ReadonlySet<number>,
): Map<number, [number, number]> {
  const spans = new Map<number, [number, number]>();
  const arrayDepth = rootIsArray ? 1 : 2;
  let depth = 0;
  let inString = false;
  let stringStart = 0;
  let lastString = '';
  let key = '';
  let inJobs = false;
  let elem = 0;
  let elemStart = -1;
  const startElement = (i: number) => {
    if (inJobs && depth === arrayDepth && elemStart === -1) elemStart = i;
  };
  const endElement = (i: number) => {
    if (elemStart !== -1 && wanted.has(elem)) spans.set(elem, [elemStart, i]);
    elemStart = -1;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) {
        inString = false;
        if (!rootIsArray && depth === 1) lastString = text.slice(stringStart + 1, i);
      }
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (c === 0x22) {
      startElement(i);
      inString = true;
      stringStart = i;
    } else if (c === 0x3a) {
      if (!rootIsArray && depth === 1) key = lastString;
    } else if (c === 0x5b || c === 0x7b) {
      if (depth === arrayDepth - 1 && c === 0x5b && (rootIsArray || key === 'jobs')) {
        // the jobs array (a later "jobs" key wins, as in JSON.parse)
        spans.clear();
        inJobs = true;
        elem = 0;
        elemStart = -1;
      } else startElement(i);
      depth++;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
      if (inJobs && depth === arrayDepth - 1) {
        endElement(i);
        inJobs = false;
      }
    } else if (c === 0x2c) {
      if (inJobs && depth === arrayDepth) {
        endElement(i);
        elem++;
      }
    } else startElement(i);
  }
  return spans;
}

/** Line and column of each offset, in one pass over the text. */
export function lineColumns(text: string, offsets: number[]): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  const sorted = [...new Set(offsets)].sort((a, b) => a - b);
  let line = 1;
  let lineStart = 0;
  let nl = text.indexOf('\n');
  for (const off of sorted) {
    while (nl !== -1 && nl < off) {
      line++;
      lineStart = nl + 1;
      nl = text.indexOf('\n', nl + 1);
    }
    out.set(off, [line, off - lineStart + 1]);
  }
  return out;
}
