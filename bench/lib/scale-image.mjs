// A large synthetic image built locally (no registry): the static-bin fixture's tiny server on top
// of a generated tree of real, incompressible bytes (thousands of small files and a few files of
// hundreds of MB). The app touches almost none of it, so slimify's memory must not follow the
// image size. The tree is deleted as soon as the image exists; the image is removed by the caller.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { docker, pipeline, timed } from './engine.mjs';

const MB = 1024 * 1024;
export const SCALE_SHAPE = {
  base: 'slimify-fixtures/static-bin:latest',
  largeFiles: 4,
  largeFileMiB: 400,
  smallFiles: 6000,
  smallFileMaxKiB: 160,
};

/** Free bytes where the tree is generated and where the engine keeps its layers. */
export async function freeBytes(dir) {
  const root = await docker(['info', '--format', '{{.DockerRootDir}}']);
  const free = (path) => {
    const s = statfsSync(path);
    return s.bavail * s.bsize;
  };
  return { tmp: free(dir), engine: free(root), engineRoot: root };
}

/** Generates the tree under work/scale, builds TAG from it, removes the tree; returns facts. */
export async function buildScaleImage(tag, work, log) {
  const context = join(work, 'scale');
  const data = join(context, 'data');
  mkdirSync(data, { recursive: true });
  try {
    const generated = await timed(() => generateTree(data));
    log(`generated ${generated.result.files} files, ${(generated.result.bytes / 1e9).toFixed(2)} GB in ${(generated.ms / 1000).toFixed(0)} s`);
    writeFileSync(join(context, 'Dockerfile'), `FROM ${SCALE_SHAPE.base}\nCOPY data /srv/data\n`);
    const built = await timed(() => docker(['build', '-q', '-t', tag, '--label', 'slimify.bench=1', context], { env: { DOCKER_BUILDKIT: '0' } }));
    log(`built ${tag} in ${(built.ms / 1000).toFixed(0)} s`);
    return { ...generated.result, generateMs: generated.ms, buildMs: built.ms };
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

async function generateTree(dir) {
  let bytes = 0;
  let files = 0;
  const big = join(dir, 'blobs');
  mkdirSync(big);
  for (let i = 0; i < SCALE_SHAPE.largeFiles; i++) {
    // real bytes from the kernel's generator: not sparse, not compressible, so export moves them all
    await pipeline('head -c "$1" /dev/urandom > "$2"', String(SCALE_SHAPE.largeFileMiB * MB), join(big, `blob-${i}.bin`));
    bytes += SCALE_SHAPE.largeFileMiB * MB;
    files++;
  }
  const pool = randomBytes(16 * MB);
  let seed = 7;
  const next = (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let i = 0; i < SCALE_SHAPE.smallFiles; i++) {
    const sub = join(dir, 'tree', `d${i % 60}`, `e${i % 7}`);
    if (i < 420) mkdirSync(sub, { recursive: true });
    const size = 1 + next(SCALE_SHAPE.smallFileMaxKiB * 1024);
    const start = next(pool.length - size);
    writeFileSync(join(sub, `file-${i}.dat`), pool.subarray(start, start + size));
    bytes += size;
    files++;
  }
  return { bytes, files };
}
