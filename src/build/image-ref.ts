/**
 * Image references: validation and the default output tag (`REPO.slim:TAG`).
 */
import { SlimifyError } from '../errors.js';

export interface ParsedRef {
  /** registry/path part, without tag or digest */
  repository: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

export function parseRef(ref: string): ParsedRef {
  const bad = (why: string) => new SlimifyError(`"${ref}" is not a valid image reference: ${why}`, { code: 'usage', image: ref });
  if (ref.trim() === '' || /\s/.test(ref)) throw bad('it is empty or contains white space');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^[a-z0-9]+:[a-f0-9]{32,}$/.test(digest)) throw bad('the digest after @ is malformed');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`the tag "${tag}" is not allowed (letters, digits, _ . -; at most 128)`);
  }
  const parts = rest.split('/');
  const first = parts[0] ?? '';
  const hasRegistry = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  for (const part of hasRegistry ? parts.slice(1) : parts) {
    if (!COMPONENT.test(part)) throw bad(`"${part}" must be lower-case letters, digits and separators`);
  }
  return { repository: rest, tag, digest };
}

/** Whether a string is an image id (full or short hex, with or without sha256:). */
export function isImageId(ref: string): boolean {
  return /^(sha256:)?[a-f0-9]{12,64}$/.test(ref);
}

/** `nginx:1.25` -> `nginx.slim:1.25`; `registry:5000/app` -> `registry:5000/app.slim:latest`. */
export function defaultOutputTag(ref: string): string {
  if (isImageId(ref)) return `slimify-${ref.replace(/^sha256:/, '').slice(0, 12)}.slim:latest`;
  const parsed = parseRef(ref);
  return `${parsed.repository}.slim:${parsed.tag ?? 'latest'}`;
}

/** The tag the slim image gets: `--tag` as given, with `:latest` when it names no tag, or the default. */
export function outputTag(tag: string | undefined, image: string): string {
  if (tag === undefined) return defaultOutputTag(image);
  const parsed = parseRef(tag);
  if (parsed.digest) throw new SlimifyError(`--tag ${tag}: an output tag cannot have a digest; give REPO or REPO:TAG`, { code: 'usage' });
  return `${parsed.repository}:${parsed.tag ?? 'latest'}`;
}
