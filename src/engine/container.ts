/**
 * Containers through the engine: create one (exposed ports published on 127.0.0.1 only),
 * then start, probe, stop and remove it through a small handle. Engine errors are checked by
 * status code: 304 (already stopped), 404 (already gone), 409 (being removed) are not errors
 * when the goal is to be rid of the container.
 */
import type Docker from 'dockerode';
import { type Duplex, PassThrough, type Readable } from 'node:stream';
import { engineStatus } from '../errors.js';
import { call, client } from './engine.js';

/** A named volume, or a directory of the engine's host (which the engine checks exists). */
export type MountSource = { volume: string } | { bind: string };

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
  mounts?: Array<{ source: MountSource; target: string; readOnly: boolean }>;
  capAdd?: string[];
  securityOpt?: string[];
  init?: boolean;
  disableHealthcheck?: boolean;
  openStdin?: boolean;
  /** no network at all (NetworkMode none) */
  noNetwork?: boolean;
  labels?: Record<string, string>;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A process started with `docker exec` that slimify talks to while it runs. */
export interface ExecSession {
  /** the process's stdin */
  input: NodeJS.WritableStream;
  /** the process's stdout, as it comes; ends when the process ends */
  output: Readable;
  /** what the process wrote to stderr so far */
  errors(): string;
  /** hangs up (the process reads the end of its stdin) */
  close(): void;
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
  /** Starts `cmd` in the container with its stdin and stdout connected to slimify. */
  execSession(cmd: string[], options?: { user?: string }): Promise<ExecSession>;
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
      Mounts: spec.mounts?.map((m) => ('bind' in m.source ? { Type: 'bind', Source: m.source.bind, Target: m.target, ReadOnly: m.readOnly } : { Type: 'volume', Source: m.source.volume, Target: m.target, ReadOnly: m.readOnly })),
      NetworkMode: spec.noNetwork ? 'none' : undefined,
      CapAdd: spec.capAdd,
      SecurityOpt: spec.securityOpt,
      Init: spec.init,
      AutoRemove: false,
    },
  };
  const container = await call(`create container from ${spec.image}`, (docker) => docker.createContainer(options));
  return wrapContainer(container);
}

function wrapContainer(container: Docker.Container): ContainerHandle {
  const id = container.id;
  /** Starts `cmd` in the container, its output (and its input, with `stdin`) on the returned stream. */
  const startExec = async (cmd: string[], options: { user?: string; env?: string[]; workingDir?: string }, stdin: boolean) => {
    const exec = await call(`exec in ${id.slice(0, 12)}: ${cmd.join(' ')}`, () =>
      container.exec({ Cmd: cmd, AttachStdin: stdin, AttachStdout: true, AttachStderr: true, User: options.user, Env: options.env, WorkingDir: options.workingDir }),
    );
    const stream = (await call('exec start', () => exec.start({ hijack: true, stdin }))) as Duplex;
    return { exec, stream };
  };
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
      const { exec, stream } = await startExec(cmd, options, false);
      const out = await demux(stream);
      const info = await call('exec inspect', () => exec.inspect());
      return { exitCode: info.ExitCode ?? -1, ...out };
    },
    execSession: async (cmd, options = {}) => {
      const { stream } = await startExec(cmd, options, true);
      const { modem } = await client();
      const output = new PassThrough();
      const errors: Buffer[] = [];
      modem.demuxStream(stream, sink((chunk) => output.write(chunk)), sink((chunk) => errors.push(chunk)));
      stream.on('end', () => output.end());
      stream.on('close', () => output.end());
      stream.on('error', (error) => output.destroy(error));
      return {
        input: stream,
        output,
        errors: () => Buffer.concat(errors).toString(),
        close: () => {
          stream.end();
          stream.destroy();
        },
      };
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

/** A writable that hands each chunk to `write`: what demuxStream writes the engine's frames to. */
function sink(write: (chunk: Buffer) => void): NodeJS.WritableStream {
  return { write: (chunk: Buffer) => (write(chunk), true) } as unknown as NodeJS.WritableStream;
}

async function demux(stream: NodeJS.ReadableStream): Promise<{ stdout: string; stderr: string }> {
  const { modem } = await client();
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    modem.demuxStream(stream, sink((chunk) => stdout.push(chunk)), sink((chunk) => stderr.push(chunk)));
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

export async function removeContainerById(id: string): Promise<void> {
  await wrapContainer((await client()).getContainer(id)).remove();
}
