/**
 * Package-manager caches and index lists that images often keep by accident. Each rule names the
 * fix users apply in the Dockerfile, so the report can say what to do.
 */
export interface CacheKind {
  id: string;
  label: string;
  fix: string;
  matches(path: string): boolean;
}

const under = (prefix: string) => (path: string) => path.startsWith(prefix);

export const CACHE_KINDS: readonly CacheKind[] = [
  {
    id: 'apt-lists',
    label: 'apt package lists',
    fix: 'end the RUN that calls apt-get update with `&& rm -rf /var/lib/apt/lists/*`',
    matches: (p) => p.startsWith('/var/lib/apt/lists/') && !p.endsWith('/lock') && !p.startsWith('/var/lib/apt/lists/partial'),
  },
  {
    id: 'apt-cache',
    label: 'apt cache (downloaded .debs, package caches)',
    fix: 'run `apt-get clean` in the same RUN, or mount /var/cache/apt as a build cache',
    matches: (p) => p.startsWith('/var/cache/apt/') && (p.endsWith('.deb') || p.endsWith('.bin')),
  },
  {
    id: 'apk-cache',
    label: 'apk cache',
    fix: 'use `apk add --no-cache`',
    matches: (p) => p.startsWith('/var/cache/apk/') && !p.endsWith('/installed'),
  },
  {
    id: 'pip-cache',
    label: 'pip cache',
    fix: 'use `pip install --no-cache-dir` (or PIP_NO_CACHE_DIR=1)',
    matches: (p) => /\/\.cache\/pip\//.test(p),
  },
  {
    id: 'npm-cache',
    label: 'npm cache',
    fix: 'run `npm cache clean --force` in the same RUN, or use a build cache mount for ~/.npm',
    matches: (p) => /\/\.npm\/(_cacache|_logs)\//.test(p),
  },
  {
    id: 'yarn-cache',
    label: 'yarn cache',
    fix: 'run `yarn cache clean` in the same RUN',
    matches: (p) => /\/\.cache\/yarn\//.test(p) || /\/\.yarn\/(berry\/)?cache\//.test(p),
  },
  {
    id: 'dnf-yum-cache',
    label: 'dnf/yum cache',
    fix: 'run `dnf clean all` (or `yum clean all`) in the same RUN',
    matches: (p) => under('/var/cache/dnf/')(p) || under('/var/cache/yum/')(p),
  },
];

export function cacheKindOf(path: string): CacheKind | undefined {
  return CACHE_KINDS.find((kind) => kind.matches(path));
}
