/**
 * Loads dockerode without the two parts of it slimify rarely needs. Of its ~240 ms of loading on
 * the benchmark machine, ~120 ms go to BuildKit's session support (gRPC and protobuf, used only
 * by buildImage with credentials, which slimify never calls) and ~70 ms to docker-modem's ssh
 * transport (ssh2, used only when DOCKER_HOST is ssh://). Both modules export a single function
 * that is called later, never at load time, so a stand-in that loads the real module on its
 * first call keeps every feature and moves the cost to the runs that use it.
 *
 * A module that cannot be found where it is expected (a dockerode release laid out differently)
 * is simply loaded as usual.
 */
import { createRequire } from 'node:module';
import type Docker from 'dockerode';

const require = createRequire(import.meta.url);

/** [the module that requires it, the request], as written in dockerode 4 and docker-modem 5 */
const DEFERRED: ReadonlyArray<readonly [string, string]> = [
  ['dockerode/lib/docker.js', './session'],
  ['docker-modem/lib/modem.js', './ssh'],
];

/** Where `request` resolves from `parentModule`; docker-modem is looked up from dockerode, as it would be. */
function locate(parentModule: string, request: string): { parentRequire: NodeJS.Require; file: string } {
  const fromDockerode = createRequire(require.resolve('dockerode/lib/docker.js'));
  const parentRequire = createRequire(fromDockerode.resolve(parentModule));
  return { parentRequire, file: parentRequire.resolve(request) };
}

function defer(parentModule: string, request: string): void {
  let parentRequire: NodeJS.Require;
  let file: string;
  try {
    ({ parentRequire, file } = locate(parentModule, request));
  } catch {
    return;
  }
  if (require.cache[file]) return;
  let real: ((...args: unknown[]) => unknown) | undefined;
  const load = (): ((...args: unknown[]) => unknown) => {
    if (!real) {
      delete require.cache[file];
      real = parentRequire(request) as (...args: unknown[]) => unknown;
    }
    return real;
  };
  const standIn = new Proxy(function deferred() {}, {
    apply: (_target, self, args) => Reflect.apply(load(), self, args),
    construct: (_target, args) => Reflect.construct(load(), args),
    get: (_target, key) => Reflect.get(load(), key),
    has: (_target, key) => Reflect.has(load(), key),
  });
  require.cache[file] = { id: file, filename: file, loaded: true, exports: standIn, children: [], paths: [] } as unknown as NodeJS.Module;
}

export function loadDockerode(): typeof Docker {
  for (const [parent, request] of DEFERRED) defer(parent, request);
  return require('dockerode') as typeof Docker;
}

/** The files of the deferred modules, for the test that checks they stay unloaded. */
export function deferredFiles(): string[] {
  return DEFERRED.map(([parent, request]) => locate(parent, request).file);
}
