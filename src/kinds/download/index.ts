/** `download`: an HTTP(S) GET into a part file beside `to`, checked, then renamed into place. */
import { withoutFsync } from '../durable.js';
import { isRecord, type Kind, type KindIssue } from '../kind.js';
import type { DownloadSpec } from './spec.js';
import { redactUrl } from '../../util/redact.js';
import { shellQuote } from '../../util/shell.js';

export const download: Kind<'download'> = {
  name: 'download',
  normalize(value, resolve) {
    const v = value as Record<string, unknown>;
    const spec: DownloadSpec = {
      url: v.url as string,
      to: resolve(v.to as string),
      overwrite: v.overwrite === true,
    };
    if (typeof v.sha256 === 'string') spec.sha256 = v.sha256.toLowerCase();
    if (isRecord(v.headers)) spec.headers = v.headers as Record<string, string>;
    if (v.fsync === true) spec.fsync = true;
    return { kind: 'download', download: spec };
  },
  issues(value, at) {
    const issues: KindIssue[] = [];
    // A URL of the schema's pattern that the URL parser still refuses.
    if (isRecord(value) && typeof value.url === 'string' && /^https?:\/\/[^\s/?#]+/i.test(value.url)) {
      let ok = false;
      try {
        const u = new URL(value.url);
        ok = u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        ok = false;
      }
      if (!ok)
        issues.push({
          at: [...at, 'url'],
          message: `not a valid URL: ${JSON.stringify(redactUrl(value.url))}`,
        });
    }
    return issues;
  },
  // The whole URL as one word (it may hold spaces), redacted before it is quoted.
  describe: (job) => `download ${shellQuote(redactUrl(job.download.url))} ${shellQuote(job.download.to)}`,
  hashed: (job) => withoutFsync(job.download),
  destination: (job) => job.download.to,
  paths: (job) => [[['to'], job.download.to]],
  stop: 'abort',
  sendAhead: false,
  succeeded: () => true,
  // Loaded on first use: shell-only runs skip it.
  async worker() {
    const { runDownload } = await import('./download.js');
    return { execute: (job, ctx) => runDownload(job.download, ctx) };
  },
};
