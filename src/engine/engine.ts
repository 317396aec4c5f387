/**
 * The engine boundary: the only module that talks to the Docker engine (through dockerode).
 * Everything else sees the narrow `Engine` interface below, so the pipeline can be tested with
 * plain objects. DOCKER_HOST (unix, tcp with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH, ssh) is read by
 * docker-modem itself.
 */
import Docker from 'dockerode';
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

export interface ContainerSpec {
  image: string;
  name?: string;
  entrypoint?: string[];
  cmd?: string[];
  user?: string;
  env?: string[];
  workingDir?: string;
  /** container port spec ("80/tcp") -> published on 127.0.0.1 at a random port */
  publish?: string[];
  mounts?: Array<{ volume: string; target: string; readOnly: boolean }>;
  capAdd?: string[];
  securityOpt?: string[];
  init?: boolean;
  disableHealthcheck?: boolean;
  openStdin?: boolean;
  labels?: Record<string, string>;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

let docker: Docker | undefined;

function client(): Docker {
  docker ??= new Docker();
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
async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  debug(`engine: ${what}`);
  try {
    return await fn();
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
  await call('ping', () => Promise.race([client().ping(), timer]));
}

export async function engineArchitecture(): Promise<string> {
  const info = await call('info', () => client().info());
  return String((info as { Architecture?: string }).Architecture ?? '');
}

export async function inspectImage(ref: string): Promise<ImageInfo | undefined> {
  try {
    const raw = await call(`inspect image ${ref}`, () => client().getImage(ref).inspect());
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
  const stream = await call(`pull ${ref}`, () => client().pull(ref));
  await followProgress(stream);
}

export async function imageHistory(ref: string): Promise<Array<{ Id: string; Created: number; CreatedBy: string; Size: number; Comment: string }>> {
  return call(`history ${ref}`, () => client().getImage(ref).history());
}

export async function saveImage(ref: string): Promise<Readable> {
  return (await call(`save ${ref}`, () => client().getImage(ref).get())) as unknown as Readable;
}

export async function removeImage(ref: string): Promise<void> {
  try {
    await call(`remove image ${ref}`, () => client().getImage(ref).remove({ noprune: false }));
  } catch (error) {
    if (engineStatus(error) !== 404) throw error;
  }
}

export async function tagImage(id: string, repo: string, tag: string): Promise<void> {
  await call(`tag ${id} ${repo}:${tag}`, () => client().getImage(id).tag({ repo, tag }));
}

/** Streams a docker-save style tarball into the engine; resolves with the engine's messages. */
export async function loadImage(tarball: Readable): Promise<string[]> {
  const response = await call('load image', () => client().loadImage(tarball, { quiet: true }));
  return followProgress(response as NodeJS.ReadableStream);
}

function followProgress(stream: NodeJS.ReadableStream): Promise<string[]> {
  return new Promise((resolve, reject) => {
    client().modem.followProgress(stream, (error: Error | null, output: Array<{ stream?: string; status?: string; error?: string; errorDetail?: { message?: string } }>) => {
      if (error) return reject(error);
      const failed = output.find((o) => o.error || o.errorDetail);
      if (failed) return reject(new Error(failed.errorDetail?.message ?? failed.error));
      resolve(output.map((o) => (o.stream ?? o.status ?? '').trim()).filter(Boolean));
    });
  });
}

export interface ContainerHandle {
  id: string;
  start(): Promise<void>;
  inspect(): Promise<Docker.ContainerInspectInfo>;
  /** Host ports published on 127.0.0.1, keyed by container port spec ("80/tcp"). */
  publishedPorts(): Promise<Record<string, number>>;
  stop(graceSeconds: number): Promise<void>;
  kill(signal?: string): Promise<void>;
  wait(): Promise<{ StatusCode: number }>;
  remove(): Promise<void>;
  exec(cmd: string[], options?: { user?: string; env?: string[]; workingDir?: string }): Promise<ExecResult>;
  getArchive(path: string): Promise<Readable>;
  putArchive(tarball: Readable | Buffer, path: string): Promise<void>;
  export(): Promise<Readable>;
  logs(): Promise<{ stdout: string; stderr: string }>;
}

export async function createContainer(spec: ContainerSpec): Promise<ContainerHandle> {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const port of spec.publish ?? []) {
    exposed[port] = {};
    bindings[port] = [{ HostIp: '127.0.0.1', HostPort: '' }];
  }
  const options: Docker.ContainerCreateOptions = {
    Image: spec.image,
    name: spec.name,
    Entrypoint: spec.entrypoint,
    Cmd: spec.cmd,
    User: spec.user,
    Env: spec.env,
    WorkingDir: spec.workingDir,
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    Labels: spec.labels,
    OpenStdin: spec.openStdin,
    Healthcheck: spec.disableHealthcheck ? { Test: ['NONE'] } : undefined,
    HostConfig: {
      PortBindings: bindings,
      Mounts: spec.mounts?.map((m) => ({ Type: 'volume', Source: m.volume, Target: m.target, ReadOnly: m.readOnly })),
      CapAdd: spec.capAdd,
      SecurityOpt: spec.securityOpt,
      Init: spec.init,
      AutoRemove: false,
    },
  };
  const container = await call(`create container from ${spec.image}`, () => client().createContainer(options));
  return wrapContainer(container);
}

function wrapContainer(container: Docker.Container): ContainerHandle {
  const id = container.id;
  return {
    id,
    start: async () => {
      await call(`start ${id.slice(0, 12)}`, () => container.start());
    },
    inspect: () => call(`inspect ${id.slice(0, 12)}`, () => container.inspect()),
    publishedPorts: async () => {
      const info = await call(`inspect ${id.slice(0, 12)}`, () => container.inspect());
      const ports: Record<string, number> = {};
      for (const [spec, binds] of Object.entries(info.NetworkSettings?.Ports ?? {})) {
        const bind = (binds ?? []).find((b) => b.HostIp === '127.0.0.1') ?? binds?.[0];
        if (bind?.HostPort) ports[spec] = Number(bind.HostPort);
      }
      return ports;
    },
    stop: async (graceSeconds) => {
      try {
        await call(`stop ${id.slice(0, 12)} (grace ${graceSeconds}s)`, () => container.stop({ t: graceSeconds }));
      } catch (error) {
        if (engineStatus(error) !== 304 && engineStatus(error) !== 404) throw error;
      }
    },
    kill: async (signal = 'SIGKILL') => {
      try {
        await call(`kill ${id.slice(0, 12)} ${signal}`, () => container.kill({ signal }));
      } catch (error) {
        const status = engineStatus(error);
        if (status !== 409 && status !== 404 && status !== 304) throw error;
      }
    },
    wait: () => call(`wait ${id.slice(0, 12)}`, () => container.wait()),
    remove: async () => {
      try {
        await call(`remove ${id.slice(0, 12)}`, () => container.remove({ force: true, v: true }));
      } catch (error) {
        if (engineStatus(error) !== 404 && engineStatus(error) !== 409) throw error;
      }
    },
    exec: async (cmd, options = {}) => {
      const exec = await call(`exec in ${id.slice(0, 12)}: ${cmd.join(' ')}`, () =>
        container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, User: options.user, Env: options.env, WorkingDir: options.workingDir }),
      );
      const stream = await call('exec start', () => exec.start({ hijack: true, stdin: false }));
      const out = await demux(stream);
      const info = await call('exec inspect', () => exec.inspect());
      return { exitCode: info.ExitCode ?? -1, ...out };
    },
    getArchive: async (path) => (await call(`get ${path} from ${id.slice(0, 12)}`, () => container.getArchive({ path }))) as unknown as Readable,
    putArchive: async (tarball, path) => {
      await call(`put archive at ${path} in ${id.slice(0, 12)}`, () => container.putArchive(tarball as NodeJS.ReadableStream, { path }));
    },
    export: async () => (await call(`export ${id.slice(0, 12)}`, () => container.export())) as unknown as Readable,
    logs: async () => {
      const buffer = (await call(`logs ${id.slice(0, 12)}`, () => container.logs({ stdout: true, stderr: true, follow: false }))) as unknown as Buffer;
      return demuxBuffer(buffer);
    },
  };
}

function demux(stream: NodeJS.ReadableStream): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const sink = (into: Buffer[]) => ({ write: (b: Buffer) => into.push(b) > 0 }) as unknown as NodeJS.WritableStream;
    client().modem.demuxStream(stream, sink(stdout), sink(stderr));
    stream.on('end', () => resolve({ stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() }));
    stream.on('error', reject);
  });
}

/** Splits the engine's multiplexed log format (8-byte frame headers) into stdout and stderr. */
export function demuxBuffer(buffer: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const kind = buffer[offset];
    const length = buffer.readUInt32BE(offset + 4);
    const frame = buffer.subarray(offset + 8, offset + 8 + length);
    (kind === 2 ? err : out).push(frame);
    offset += 8 + length;
  }
  return { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

export async function createVolume(name: string, labels: Record<string, string>): Promise<void> {
  await call(`create volume ${name}`, () => client().createVolume({ Name: name, Labels: labels }));
}

export async function removeVolume(name: string): Promise<void> {
  try {
    await call(`remove volume ${name}`, () => client().getVolume(name).remove({ force: true }));
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
  const containers = await call('list containers', () => client().listContainers({ all: true, filters: { label: [label] } }));
  const volumes = await call('list volumes', () => client().listVolumes({ filters: { label: [label] } }));
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

export async function removeContainerById(id: string): Promise<void> {
  await wrapContainer(client().getContainer(id)).remove();
}
