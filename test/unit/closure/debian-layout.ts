import { FsIndex, type FsEntry } from '../../../src/closure/fs-index.js';

type Extra = Partial<Omit<FsEntry, 'path' | 'type'>>;

/** Builds an FsIndex by hand, with the metadata a tar walk would record. */
export class LayoutBuilder {
  readonly index = new FsIndex();

  dir(path: string, extra: Extra = {}): this {
    this.index.add({ path, type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1_700_000_000, ...extra });
    return this;
  }

  file(path: string, extra: Extra = {}): this {
    this.index.add({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: 100, mtime: 1_700_000_000, kind: 'other', ...extra });
    return this;
  }

  elf(path: string, extra: Extra = {}): this {
    return this.file(path, { mode: 0o755, kind: 'elf', ...extra });
  }

  script(path: string, shebang: string): this {
    return this.file(path, { mode: 0o755, kind: 'script', shebang });
  }

  link(path: string, target: string): this {
    this.index.add({ path, type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: 1_700_000_000, linkname: target });
    return this;
  }

  hardlink(path: string, target: string): this {
    this.index.add({ path, type: 'hardlink', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1_700_000_000, linkname: target });
    return this;
  }
}

export const MULTIARCH = '/usr/lib/x86_64-linux-gnu';

/**
 * A Debian bookworm (usrmerge) root as `docker export` shows it: root links into /usr, the
 * loader behind /usr/lib64, libraries in the multiarch directory, ld.so.conf with includes.
 */
export function debianLayout(): LayoutBuilder {
  return new LayoutBuilder()
    .dir('/')
    .link('/bin', 'usr/bin')
    .link('/lib', 'usr/lib')
    .link('/lib64', 'usr/lib64')
    .link('/sbin', 'usr/sbin')
    .dir('/usr')
    .dir('/usr/bin')
    .dir('/usr/sbin')
    .dir('/usr/lib')
    .dir('/usr/lib64')
    .dir(MULTIARCH)
    .elf(`${MULTIARCH}/ld-linux-x86-64.so.2`)
    .link('/usr/lib64/ld-linux-x86-64.so.2', '../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2')
    .elf(`${MULTIARCH}/libc.so.6`)
    .elf(`${MULTIARCH}/libselinux.so.1`, { mode: 0o644 })
    .link(`${MULTIARCH}/libpcre2-8.so.0`, 'libpcre2-8.so.0.11.2')
    .elf(`${MULTIARCH}/libpcre2-8.so.0.11.2`, { mode: 0o644 })
    .elf('/usr/bin/ls')
    .elf('/usr/bin/dash')
    .link('/usr/bin/sh', 'dash')
    .elf('/usr/bin/env')
    .dir('/etc')
    .file('/etc/passwd')
    .file('/etc/group')
    .file('/etc/nsswitch.conf')
    .file('/etc/shadow', { mode: 0o640, gid: 42 })
    .file('/etc/ld.so.conf')
    .dir('/etc/ld.so.conf.d')
    .file('/etc/ld.so.conf.d/libc.conf')
    .file('/etc/ld.so.conf.d/x86_64-linux-gnu.conf')
    .dir('/etc/ssl')
    .dir('/etc/ssl/certs')
    .file('/etc/ssl/certs/ca-certificates.crt')
    .link('/etc/ssl/certs/ISRG_Root_X1.pem', '/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt')
    .link('/etc/ssl/certs/4042bcee.0', 'ISRG_Root_X1.pem')
    .dir('/usr/share')
    .dir('/usr/share/ca-certificates')
    .dir('/usr/share/ca-certificates/mozilla')
    .file('/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt')
    .dir('/usr/share/doc')
    .file('/usr/share/doc/README')
    .dir('/var')
    .dir('/var/cache')
    .dir('/var/cache/nginx', { uid: 101, mode: 0o700 })
    .link('/var/run', '/run')
    .dir('/run')
    .dir('/tmp', { mode: 0o1777 });
}

/** The text files of debianLayout, as `readText` serves them. */
export const DEBIAN_TEXT: Record<string, string> = {
  '/etc/ld.so.conf': 'include /etc/ld.so.conf.d/*.conf\n\n',
  '/etc/ld.so.conf.d/libc.conf': '# libc default configuration\n/usr/local/lib\n',
  '/etc/ld.so.conf.d/x86_64-linux-gnu.conf':
    '# Multiarch support\n/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n',
};
