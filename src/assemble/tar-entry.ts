/**
 * Mapping between tar headers (as tar-stream decodes them from `docker export`) and slimify's
 * filesystem model. Names are read as latin1 so each byte survives, then given the one string
 * form every stage uses (`pathFromBytes`).
 */
import type { Header } from 'tar-stream';
import type { FsEntry, FsEntryType } from '../closure/fs-index.js';
import { pathFromBytes } from '../trace/path-encoding.js';

const TYPES: Record<string, FsEntryType> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'directory',
  symlink: 'symlink',
  link: 'hardlink',
  'character-device': 'char',
  'block-device': 'block',
  fifo: 'fifo',
};

export function entryType(header: Header): FsEntryType | undefined {
  return TYPES[header.type ?? 'file'];
}

/** '/usr/bin/ls' from 'usr/bin/ls', './usr/bin/ls' or 'usr/bin/' (latin1-decoded bytes). */
export function absolutePath(latin1Name: string): string {
  const decoded = pathFromBytes(Buffer.from(latin1Name, 'latin1'));
  const parts = decoded.split('/').filter((p) => p !== '' && p !== '.');
  return `/${parts.join('/')}`;
}

/** 'usr/bin/ls' from './usr/bin/ls' or '/usr/bin/ls/', keeping the name's bytes (latin1 in, latin1 out). */
export function relativeLatin1(latin1Name: string): string {
  return latin1Name.split('/').filter((p) => p !== '' && p !== '.').join('/');
}

/** Whether a tar name escapes the root (`..` components): such entries are refused. */
export function escapesRoot(latin1Name: string): boolean {
  return latin1Name.split('/').includes('..');
}

/** Whether a hardlink's target escapes the root; absolute targets are read from the root, as docker does. */
export function hardlinkEscapes(header: Header): boolean {
  return header.type === 'link' && (!header.linkname || escapesRoot(header.linkname));
}

export function toFsEntry(header: Header, type: FsEntryType): FsEntry {
  const entry: FsEntry = {
    path: absolutePath(header.name),
    type,
    mode: (header.mode ?? 0) & 0o7777,
    uid: header.uid ?? 0,
    gid: header.gid ?? 0,
    size: type === 'file' ? (header.size ?? 0) : 0,
    mtime: Math.floor((header.mtime?.getTime() ?? 0) / 1000),
  };
  if (header.linkname) entry.linkname = type === 'hardlink' ? absolutePath(header.linkname) : pathFromBytes(Buffer.from(header.linkname, 'latin1'));
  return entry;
}
