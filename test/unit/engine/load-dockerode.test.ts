import { createRequire } from 'node:module';
import { Agent } from 'node:http';
import { describe, expect, it } from 'vitest';
import { deferredFiles, loadDockerode } from '../../../src/engine/load-dockerode.js';

const require = createRequire(import.meta.url);
const loaded = (part: string): boolean => Object.keys(require.cache).some((file) => file.includes(`/node_modules/${part}/`));

describe('loadDockerode', () => {
  it('loads a working client without gRPC or ssh2, and loads ssh2 when the ssh transport is used', () => {
    expect(loaded('dockerode')).toBe(false);
    const Dockerode = loadDockerode();
    const docker = new Dockerode({ socketPath: '/nonexistent.sock' });
    expect(typeof docker.getImage('x').inspect).toBe('function');
    expect(loaded('dockerode')).toBe(true);
    expect(loaded('@grpc/grpc-js')).toBe(false);
    expect(loaded('ssh2')).toBe(false);

    // the stand-in forwards to the real module on first call: docker-modem's ssh transport
    const [sessionFile, sshFile] = deferredFiles();
    expect(sessionFile).toMatch(/dockerode\/lib\/session\.js$/);
    const ssh = require.cache[sshFile]?.exports as (options: object) => Agent;
    const agent = ssh({ host: '127.0.0.1', port: 1 });
    expect(agent).toBeInstanceOf(Agent);
    expect(loaded('ssh2')).toBe(true);
    expect(loaded('@grpc/grpc-js')).toBe(false);
  });
});
