/**
 * What a probe is and what it gave. Probes exercise the traced app (so its files are recorded)
 * and later the slim image (so verification can compare answers).
 */
export interface StatusRange {
  min: number;
  max: number;
}

export interface HttpProbe {
  kind: 'http';
  name: string;
  /** container port, e.g. 80 */
  port: number;
  /** default http */
  protocol?: 'http' | 'https';
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  expect: { status: StatusRange[]; bodyContains?: string; bodyRegex?: string };
  /** compare only the status in verification (the body is not deterministic) */
  statusOnly: boolean;
  timeoutMs: number;
  retries: number;
  /** the built-in GET / of an exposed port */
  isDefault: boolean;
  /** follow the same-origin links of an HTML answer (see crawl.ts) */
  crawl?: boolean;
}

export interface ScriptProbe {
  kind: 'script';
  name: string;
  path: string;
  timeoutMs: number;
}

export interface ExecProbe {
  kind: 'exec';
  name: string;
  command: string[];
  /** run through a shell inside the container (healthcheck CMD-SHELL) */
  shell: boolean;
  timeoutMs: number;
  /** the image's HEALTHCHECK, run so the slim image keeps what it needs */
  isHealthcheck: boolean;
}

export type Probe = HttpProbe | ScriptProbe | ExecProbe;

export interface ProbeOutcome {
  name: string;
  /** a page found by crawling, not a probe of its own: informs verification, never fails a build */
  crawled?: boolean;
  kind: Probe['kind'];
  ok: boolean;
  /** why it failed, in one line */
  error?: string;
  durationMs: number;
  status?: number;
  bodyDigest?: string;
  bodyBytes?: number;
  exitCode?: number;
  output?: string;
}

/** Default expectation: any answer below 500 (docker-slim counts any answer, even a 500, as success). */
export const DEFAULT_STATUS: StatusRange[] = [{ min: 100, max: 499 }];

/** The TCP ports an image exposes, in the engine's order ("8000/tcp" -> 8000). */
export function tcpPorts(exposedPorts: string[]): number[] {
  return exposedPorts
    .filter((spec) => spec.endsWith('/tcp') || !spec.includes('/'))
    .map((spec) => Number.parseInt(spec, 10))
    .filter((port) => Number.isInteger(port) && port > 0);
}

export function defaultHttpProbes(exposedPorts: string[], timeoutMs: number, crawl = true): HttpProbe[] {
  return tcpPorts(exposedPorts).map((port) => ({
      kind: 'http' as const,
      name: `GET / on port ${port}`,
      port,
      method: 'GET',
      path: '/',
      headers: {},
      expect: { status: DEFAULT_STATUS },
      statusOnly: false,
      timeoutMs,
      retries: 0,
      isDefault: true,
      crawl,
    }));
}

export function statusMatches(status: number, ranges: StatusRange[]): boolean {
  return ranges.some((r) => status >= r.min && status <= r.max);
}

export function describeRanges(ranges: StatusRange[]): string {
  return ranges.map((r) => (r.min === r.max ? String(r.min) : `${r.min}-${r.max}`)).join(', ');
}
