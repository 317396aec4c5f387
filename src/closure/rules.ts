import type { FsIndex } from './fs-index.js';
import type { Reason } from './keep-set.js';
import { resolve } from './resolve.js';

const USER_DATABASES = ['/etc/passwd', '/etc/group', '/etc/nsswitch.conf'];
const CA_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/pki/tls/cert.pem',
  '/etc/ssl/cert.pem',
  '/etc/ssl/ca-bundle.pem',
];
/** Hashed certificate directories (OpenSSL's CApath): every entry in them is kept. */
const CA_DIRECTORIES = ['/etc/ssl/certs'];

/** Seeds for the files programs need without the trace showing it (both rules default to on). */
export function ruleSeeds(
  index: FsIndex,
  rules: { userDatabases?: boolean; caCertificates?: boolean } = {},
): Array<{ path: string; reason: Reason }> {
  const seeds: Array<{ path: string; reason: Reason }> = [];
  const present = (path: string) => resolve(index, path).final !== undefined;
  if (rules.userDatabases ?? true) {
    const reason: Reason = { kind: 'rule', detail: 'user database' };
    for (const path of USER_DATABASES) if (present(path)) seeds.push({ path, reason });
  }
  if (rules.caCertificates ?? true) {
    const reason: Reason = { kind: 'rule', detail: 'CA certificates' };
    for (const path of CA_BUNDLES) if (present(path)) seeds.push({ path, reason });
    for (const dir of CA_DIRECTORIES) {
      const final = resolve(index, dir).final;
      if (final === undefined || index.get(final)?.type !== 'directory') continue;
      seeds.push({ path: dir, reason });
      for (const child of index.children(final)) seeds.push({ path: child, reason });
    }
  }
  return seeds;
}
