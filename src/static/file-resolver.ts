/**
 * Maps checked request names to a regular file under the mount's root, and
 * proves it stays there: every path is resolved with realpath and compared
 * with the realpath of the root, so a symlink inside the root may point
 * anywhere inside it but never out (nginx's disable_symlinks if_not_owner
 * spirit, Apache's FollowSymLinks limited to the tree).
 *
 * What remains is the time between this check and the open(): someone who
 * can write in the root could swap a checked directory for a symlink. That
 * attacker can already publish any file by copying it, so it is accepted.
 */
import { realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, sep } from 'node:path';
import { ConfigError } from '../errors.js';

export type Resolution =
  | {
      kind: 'file';
      /** The real path of the file, inside the real root. */
      path: string;
      stat: Stats;
      /** The name its Content-Type comes from: what the client asked for, or the index file. */
      typeName: string;
    }
  /** A directory asked for without its trailing slash. */
  | { kind: 'directory' }
  | Refused;

type Refused = { kind: 'refused'; status: 403 | 404; reason: string; suspicious: boolean };
type Located = { kind: 'located'; path: string; stat: Stats };

export const INDEX_FILE = 'index.html';

/** Errors that mean "there is no such file for you", not a server fault. */
const NOT_FOUND_CODES = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP']);
const FORBIDDEN_CODES = new Set(['EACCES', 'EPERM']);

export class FileResolver {
  readonly #root: string;
  #realRoot: Promise<string> | null = null;

  /** @param root absolute path of the directory to serve */
  constructor(root: string) {
    this.#root = root;
  }

  /** The realpath of the root, checked once to be a directory. */
  realRoot(): Promise<string> {
    this.#realRoot ??= (async () => {
      const real = await realpath(this.#root).catch((error: NodeJS.ErrnoException) => {
        throw new ConfigError(`static root '${this.#root}' is not usable: ${error.code ?? error.message}`);
      });
      if (!(await stat(real)).isDirectory()) throw new ConfigError(`static root '${this.#root}' is not a directory`);
      return real;
    })();
    // A failed check is not cached: the directory may appear later.
    this.#realRoot.catch(() => {
      this.#realRoot = null;
    });
    return this.#realRoot;
  }

  /**
   * @param names file names from `parseRequestPath`: no '/', '\', NUL or leading dot
   * @param trailingSlash the request asked for a directory
   */
  async resolve(names: string[], trailingSlash: boolean): Promise<Resolution> {
    const root = await this.realRoot();
    try {
      const target = await this.#locate(root, join(root, ...names));
      if (target.kind === 'refused') return target;
      if (target.stat.isDirectory()) {
        if (!trailingSlash) return { kind: 'directory' };
        const index = await this.#locate(root, join(target.path, INDEX_FILE));
        if (index.kind === 'refused') return index;
        if (!index.stat.isFile()) return refused(404, 'directory has no index file and listings are off');
        return { kind: 'file', path: index.path, stat: index.stat, typeName: INDEX_FILE };
      }
      // A FIFO or device would block or stream forever: only regular files are served.
      if (!target.stat.isFile()) return refused(404, 'not a regular file');
      if (trailingSlash) return refused(404, 'a file asked for as a directory');
      return { kind: 'file', path: target.path, stat: target.stat, typeName: names[names.length - 1] ?? '' };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (NOT_FOUND_CODES.has(code)) return refused(404, code);
      if (FORBIDDEN_CODES.has(code)) return refused(403, code);
      throw error;
    }
  }

  async #locate(root: string, candidate: string): Promise<Located | Refused> {
    const real = await realpath(candidate);
    const prefix = root.endsWith(sep) ? root : root + sep;
    if (real !== root && !real.startsWith(prefix)) {
      return { kind: 'refused', status: 404, reason: `resolves outside the root, to '${real}'`, suspicious: true };
    }
    return { kind: 'located', path: real, stat: await stat(real) };
  }
}

function refused(status: 403 | 404, reason: string): Refused {
  return { kind: 'refused', status, reason, suspicious: false };
}
