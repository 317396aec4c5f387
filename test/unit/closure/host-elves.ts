import { fileByteSource } from '../../../src/closure/byte-source.js';
import { readElf, type ElfInfo } from '../../../src/closure/elf-reader.js';
import { MULTIARCH } from './debian-layout.js';

async function read(path: string): Promise<ElfInfo> {
  await using source = await fileByteSource(path);
  return await readElf(source);
}

/**
 * Real ElfInfo of host binaries, keyed by where debianLayout puts them, plus any extra
 * image-path-to-host-file pairs. Also counts reads, to check each file is read once.
 */
export async function hostElves(extra: Record<string, string> = {}) {
  const hostLib = '/lib/x86_64-linux-gnu';
  const files: Record<string, string> = {
    [`${MULTIARCH}/ld-linux-x86-64.so.2`]: `${hostLib}/ld-linux-x86-64.so.2`,
    [`${MULTIARCH}/libc.so.6`]: `${hostLib}/libc.so.6`,
    [`${MULTIARCH}/libselinux.so.1`]: `${hostLib}/libselinux.so.1`,
    [`${MULTIARCH}/libpcre2-8.so.0.11.2`]: `${hostLib}/libpcre2-8.so.0.11.2`,
    '/usr/bin/ls': '/usr/bin/ls',
    '/usr/bin/dash': '/usr/bin/dash',
    '/usr/bin/env': '/usr/bin/env',
    ...extra,
  };
  const infos = new Map<string, ElfInfo>();
  for (const [imagePath, hostPath] of Object.entries(files)) infos.set(imagePath, await read(hostPath));
  const reads: string[] = [];
  return {
    infos,
    reads,
    readElf: async (path: string) => {
      reads.push(path);
      return infos.get(path);
    },
  };
}

export function textReader(files: Record<string, string>) {
  return async (path: string) => files[path];
}
