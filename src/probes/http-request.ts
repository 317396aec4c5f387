/**
 * One HTTP exchange with the target, always on 127.0.0.1 through a published port. The body is
 * hashed while it streams in (only a short sample is kept), so big responses cost no memory.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

export interface HttpRequest {
  port: number;
  /** https is spoken without checking the certificate, as docker-slim does: the app's own cert is rarely valid for 127.0.0.1 */
  protocol?: 'http' | 'https';
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** keep this many bytes of the body as text in `bodySample` (default 4 kB) */
  sampleBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  bodyBytes: number;
  bodyDigest: string;
  /** The first 4 kB of the body, as text, for checks and messages. */
  bodySample: string;
}

const SAMPLE_BYTES = 4096;

export function httpRequest(request: HttpRequest): Promise<HttpResponse> {
  const limit = request.sampleBytes ?? SAMPLE_BYTES;
  return new Promise((resolve, reject) => {
    const client = request.protocol === 'https' ? https : http;
    const req = client.request(
      {
        host: '127.0.0.1',
        rejectUnauthorized: false,
        port: request.port,
        method: request.method,
        path: request.path,
        headers: request.headers,
        timeout: request.timeoutMs,
        signal: request.signal,
        agent: false,
      },
      (res) => {
        const hash = createHash('sha256');
        let bytes = 0;
        const sample: Buffer[] = [];
        let sampled = 0;
        res.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          bytes += chunk.length;
          if (sampled < limit) {
            sample.push(chunk.subarray(0, limit - sampled));
            sampled += Math.min(chunk.length, limit - sampled);
          }
        });
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [key, value] of Object.entries(res.headers)) if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
          resolve({ status: res.statusCode ?? 0, headers, bodyBytes: bytes, bodyDigest: `sha256:${hash.digest('hex')}`, bodySample: Buffer.concat(sample).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${request.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(request.body);
  });
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
