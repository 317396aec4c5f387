/**
 * The crawler behind the default probe: from an HTML answer, follow the links (href, src) that
 * stay on the same port of 127.0.0.1, breadth first, a bounded number of pages. A site's pages,
 * styles and images are then kept without listing them one by one. Links to any other host are
 * never followed.
 */
import { httpRequest } from './http-request.js';
import type { HttpProbe, ProbeOutcome } from './probe.js';

export const CRAWL_LIMITS = { pages: 100, depth: 3, pageBytes: 1_000_000 };

const LINK = /\b(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))/gi;
const ORIGIN = 'http://crawl.invalid';

/** Same-origin paths (with query, without fragment) linked from `html`, served at `pagePath`. */
export function linksIn(html: string, pagePath: string): string[] {
  const base = new URL(pagePath, ORIGIN);
  const found = new Set<string>();
  for (const match of html.matchAll(LINK)) {
    const link = (match[1] ?? match[2] ?? match[3] ?? '').trim();
    if (link === '' || link.startsWith('#') || /^(?:javascript|mailto|data|tel):/i.test(link)) continue;
    let url: URL;
    try {
      url = new URL(link, base);
    } catch {
      continue;
    }
    if (url.origin !== ORIGIN) continue;
    found.add(`${url.pathname}${url.search}`);
  }
  return [...found];
}

function isHtml(headers: Record<string, string>): boolean {
  return (headers['content-type'] ?? '').toLowerCase().includes('html');
}

/** Crawls from `seed` (already probed); one outcome per page found, in the order visited. */
export async function crawl(seed: HttpProbe, hostPort: number): Promise<ProbeOutcome[]> {
  const outcomes: ProbeOutcome[] = [];
  const seen = new Set<string>([seed.path]);
  let frontier = [seed.path];
  const deadline = Date.now() + seed.timeoutMs;
  for (let depth = 0; depth <= CRAWL_LIMITS.depth && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const path of frontier) {
      if (Date.now() > deadline) return outcomes;
      const started = Date.now();
      const isSeed = depth === 0;
      try {
        const response = await httpRequest({ port: hostPort, protocol: seed.protocol, method: 'GET', path, headers: seed.headers, timeoutMs: seed.timeoutMs, sampleBytes: CRAWL_LIMITS.pageBytes });
        if (!isSeed) {
          // a broken link answers 404 in the original too: only a server error fails a crawled page
          outcomes.push({ name: `GET ${path} on port ${seed.port} (crawled)`, kind: 'http', crawled: true, ok: response.status < 500, error: response.status < 500 ? undefined : `status ${response.status}`, durationMs: Date.now() - started, status: response.status, bodyDigest: response.bodyDigest, bodyBytes: response.bodyBytes });
        }
        if (depth < CRAWL_LIMITS.depth && response.status < 400 && isHtml(response.headers)) {
          for (const link of linksIn(response.bodySample, path)) {
            if (seen.has(link) || seen.size >= CRAWL_LIMITS.pages + 1) continue;
            seen.add(link);
            next.push(link);
          }
        }
      } catch (error) {
        if (!isSeed) outcomes.push({ name: `GET ${path} on port ${seed.port} (crawled)`, kind: 'http', crawled: true, ok: false, error: (error as Error).message, durationMs: Date.now() - started });
      }
    }
    frontier = next;
  }
  return outcomes;
}
