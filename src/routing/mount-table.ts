/**
 * The mount table: maps a request path to the mount with the longest
 * matching prefix, on whole path segments, and splits the path into
 * SCRIPT_NAME and PATH_INFO for it.
 *
 * The split is made on the raw '/' separators before any segment is
 * decoded, so an encoded slash (%2F) can never move it: '/app%2Fx' is one
 * segment 'app/x', not the mount '/app'. Dot segments, encoded or not, are
 * resolved afterwards as RFC 3986 §5.2.4 does, and a path that would climb
 * above the root is refused.
 */
import { ConfigError } from '../errors.js';
import { decodePathBytes, splitTarget } from '../http/request-target.js';
import { quoteForLog } from '../observability/quote-for-log.js';
import type { MountHandler, MountMatch } from './mount-handler.js';

export interface Mount {
  /** '/app', or '' for the root mount; never a trailing '/'. */
  prefix: string;
  handler: MountHandler;
}

export type RouteResult =
  | { kind: 'mount'; mount: Mount; match: MountMatch }
  | { kind: 'not-found' }
  /** The path is not one we will serve: it climbs above the root (400). */
  | { kind: 'bad-path'; reason: string };

/** '/app/' and '/app' are the same mount; '/' is the root mount ''. */
export function normalizePrefix(prefix: string): string {
  if (!prefix.startsWith('/')) throw new ConfigError(`mount path '${prefix}' must start with '/'`);
  return prefix.replace(/\/+$/, '');
}

/**
 * The decoded segments of a raw path with dot segments resolved, or null
 * when '..' would leave the root. Keeps a trailing '' for a trailing slash.
 */
export function resolveSegments(rawPath: string): string[] | null {
  const raw = rawPath.split('/').slice(1);
  const resolved: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const segment = decodePathBytes(raw[i] as string);
    const last = i === raw.length - 1;
    if (segment === '.' || segment === '..') {
      if (segment === '..') {
        if (resolved.length === 0) return null;
        resolved.pop();
      }
      // '/a/b/..' names the directory '/a/', so it keeps its trailing slash.
      if (last) resolved.push('');
    } else {
      resolved.push(segment);
    }
  }
  return resolved;
}

export class MountTable {
  /** Longest prefix first, so the first match is the best. */
  readonly #mounts: Mount[];
  readonly #segments = new Map<Mount, string[]>();

  constructor(mounts: Mount[]) {
    const seen = new Set<string>();
    for (const mount of mounts) {
      if (seen.has(mount.prefix)) throw new ConfigError(`two mounts on the path '${mount.prefix || '/'}'`);
      seen.add(mount.prefix);
      this.#segments.set(mount, mount.prefix === '' ? [] : mount.prefix.split('/').slice(1));
    }
    this.#mounts = [...mounts].sort((a, b) => (this.#segments.get(b)?.length ?? 0) - (this.#segments.get(a)?.length ?? 0));
  }

  get mounts(): readonly Mount[] {
    return this.#mounts;
  }

  route(target: string): RouteResult {
    const { path, query } = splitTarget(target);
    if (!path.startsWith('/')) return { kind: 'bad-path', reason: `request target '${quoteForLog(target)}' is not a path` };
    const segments = resolveSegments(path);
    if (segments === null) return { kind: 'bad-path', reason: `path '${quoteForLog(path)}' climbs above the root` };
    for (const mount of this.#mounts) {
      const prefix = this.#segments.get(mount) as string[];
      if (prefix.length > segments.length || !prefix.every((segment, i) => segments[i] === segment)) continue;
      const rest = segments.slice(prefix.length);
      return {
        kind: 'mount',
        mount,
        match: {
          scriptName: prefix.length === 0 ? '' : '/' + segments.slice(0, prefix.length).join('/'),
          pathInfo: rest.length === 0 ? '' : '/' + rest.join('/'),
          query,
        },
      };
    }
    return { kind: 'not-found' };
  }
}
