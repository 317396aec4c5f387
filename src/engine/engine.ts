/**
 * The engine boundary: src/engine is the only place that talks to the Docker engine (through
 * dockerode): this module for the connection, images and volumes, container.ts for containers.
 * The rest of slimify calls these small functions and handles, never dockerode. DOCKER_HOST
 * (unix, tcp with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH, ssh) is read by docker-modem itself.
 */
import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { SlimifyError, engineStatus } from '../errors.js';
import { debug } from '../util/log.js';

export const LABEL_OWNER = 'slimify.owner';
export const LABEL_SESSION = 'slimify.session';
export const LABEL_PID = 'slimify.pid';
export const LABEL_HOST = 'slimify.host';

export interface ImageInfo {
  id: string;
  repoTags: string[];
  created: string;
  architecture: string;
  os: string;
  size: number;
  config: ImageConfig;
  /** The raw inspect document, for provenance and for writing the new config. */
  raw: Docker.ImageInspectInfo;
}

/** The subset of the image config slimify carries over (OCI names, engine casing). */
export interface ImageConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  User?: string;
  WorkingDir?: string;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number };
  Shell?: string[];
  OnBuild?: string[] | null;
  [key: string]: unknown;
}

let docker: Promise<Docker> | undefined;

/** The dockerode client, loaded on first use: `slimify --help` and `lint` never pay for it. */
export function client(): Promise<Docker> {
  docker ??= import('./load-dockerode.js').then(({ loadDockerode }) => new (loadDockerode())());
  return docker;
}

export function engineDescription(): string {
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

function unreachable(cause: unknown, what: string): SlimifyError {
  return new SlimifyError(
    `cannot reach the Docker engine at ${engineDescription()} (${what}: ${(cause as Error)?.message ?? String(cause)}): start one (as root on Debian: bash scripts/ensure-engine.sh) or point DOCKER_HOST at a running engine; if it stopped during a run, \`slimify clean\` removes what the run left once it is back`,
    { code: 'engine-unreachable', cause },
  );
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'EACCES', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'ENOTFOUND', 'EAI_AGAIN']);

/** Whether an error (or one of its causes) is a failed connection to the engine, not an answer from it. */
export function isConnectionError(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
    if (engineStatus(e) !== undefined) return false;
  }
  return false;
}

/** Wraps an engine call: connection failures become one clear error, others keep their status. */
export async function call<T>(what: string, fn: (docker: Docker) => Promise<T>): Promise<T> {
  debug(`engine: ${what}`);
  try {
    return await fn(await client());
  } catch (error) {
    if (isConnectionError(error)) throw unreachable(error, what);
    throw error;
  }
}

/** Whether the engine answers a ping within `timeoutMs`. */
export async function engineAnswers(timeoutMs = 2000): Promise<boolean> {
  return pingEngine(timeoutMs).then(
    () => true,
    () => false,
  );
}

export async function pingEngine(timeoutMs = 5000): Promise<void> {
  const timer = new Promise<never>((_, reject) =>
    setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), timeoutMs).unref(),
  );
  await call('ping', (docker) => Promise.race([docker.ping(), timer]));
}

export interface EngineFacts {
  architecture: string;
  /** the engine remaps user ids (userns-remap): its stored files are owned by shifted ids */
  userns: boolean;
}

export async function engineFacts(): Promise<EngineFacts> {
  const info = (await call('info', (docker) => docker.info())) as { Architecture?: string; SecurityOptions?: string[] };
  return { architecture: String(info.Architecture ?? ''), userns: (info.SecurityOptions ?? []).some((o) => o.includes('name=userns')) };
}

/** The id of some image the engine has (for a container whose image does not matter), if any. */
export async function anyImageId(): Promise<string | undefined> {
  const images = await call('list images', (docker) => docker.listImages());
  return images[0]?.Id;
}

export async function inspectImage(ref: string): Promise<ImageInfo | undefined> {
  try {
    const raw = await call(`inspect image ${ref}`, (docker) => docker.getImage(ref).inspect());
    return {
      id: raw.Id,
      repoTags: raw.RepoTags ?? [],
      created: raw.Created,
      architecture: raw.Architecture,
      os: raw.Os,
      size: raw.Size,
      config: (raw.Config ?? {}) as ImageConfig,
      raw,
    };
  } catch (error) {
    if (engineStatus(error) === 404) return undefined;
    throw error;
  }
}

export async function requireImage(ref: string): Promise<ImageInfo> {
  const info = await inspectImage(ref);
  if (!info) {
    throw new SlimifyError(`image ${ref} not found in the engine at ${engineDescription()}: build or load it first (slimify never pulls unless asked with --pull)`, {
      code: 'image-not-found',
      image: ref,
      stage: 'inspect',
    });
  }
  return info;
}

export async function pullImage(ref: string): Promise<void> {
  const stream = await call(`pull ${ref}`, (docker) => docker.pull(ref));
  await followProgress(stream);
}

export async function imageHistory(ref: string): Promise<Array<{ Id: string; Created: number; CreatedBy: string; Size: number; Comment: string }>> {
  return call(`history ${ref}`, (docker) => docker.getImage(ref).history());
}

export async function saveImage(ref: string): Promise<Readable> {
  return (await call(`save ${ref}`, (docker) => docker.getImage(ref).get())) as unknown as Readable;
}

export async function removeImage(ref: string): Promise<void> {
  try {
    await call(`remove image ${ref}`, (docker) => docker.getImage(ref).remove({ noprune: false }));
  } catch (error) {
    if (engineStatus(error) !== 404) throw error;
  }
}

export async function tagImage(id: string, repo: string, tag: string): Promise<void> {
  await call(`tag ${id} ${repo}:${tag}`, (docker) => docker.getImage(id).tag({ repo, tag }));
}

/** Streams a docker-save style tarball into the engine; resolves with the engine's messages. */
export async function loadImage(tarball: Readable): Promise<string[]> {
  const response = await call('load image', (docker) => docker.loadImage(tarball, { quiet: true }));
  return followProgress(response as NodeJS.ReadableStream);
}

async function followProgress(stream: NodeJS.ReadableStream): Promise<string[]> {
  const { modem } = await client();
  return new Promise((resolve, reject) => {
    modem.followProgress(stream, (error: Error | null, output: Array<{ stream?: string; status?: string; error?: string; errorDetail?: { message?: string } }>) => {
      if (error) return reject(error);
      const failed = output.find((o) => o.error || o.errorDetail);
      if (failed) return reject(new Error(failed.errorDetail?.message ?? failed.error));
      resolve(output.map((o) => (o.stream ?? o.status ?? '').trim()).filter(Boolean));
    });
  });
}

export async function createVolume(name: string, labels: Record<string, string>): Promise<void> {
  await call(`create volume ${name}`, (docker) => docker.createVolume({ Name: name, Labels: labels }));
}

export async function removeVolume(name: string): Promise<void> {
  try {
    await call(`remove volume ${name}`, (docker) => docker.getVolume(name).remove({ force: true }));
  } catch (error) {
    if (engineStatus(error) !== 404) throw error;
  }
}

export interface OwnedResource {
  kind: 'container' | 'volume';
  /** container id or volume name */
  id: string;
  name: string;
  session: string;
  /** the slimify process that created it, and on which host (absent on old resources) */
  pid?: number;
  host?: string;
}

/** Everything slimify created (all sessions, or one), found by label; for `slimify clean`. */
export async function listOwned(session?: string): Promise<OwnedResource[]> {
  const label = session ? `${LABEL_SESSION}=${session}` : LABEL_OWNER;
  const containers = await call('list containers', (docker) => docker.listContainers({ all: true, filters: { label: [label] } }));
  const volumes = await call('list volumes', (docker) => docker.listVolumes({ filters: { label: [label] } }));
  const owner = (labels: Record<string, string> | null | undefined) => ({
    session: labels?.[LABEL_SESSION] ?? '?',
    pid: labels?.[LABEL_PID] ? Number(labels[LABEL_PID]) : undefined,
    host: labels?.[LABEL_HOST],
  });
  return [
    ...containers.map((c) => ({ kind: 'container' as const, id: c.Id, name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''), ...owner(c.Labels) })),
    ...(volumes.Volumes ?? []).map((v) => ({ kind: 'volume' as const, id: v.Name, name: v.Name, ...owner(v.Labels) })),
  ];
}

