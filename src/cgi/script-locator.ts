/**
 * Finds the script a request names inside a CGI directory, the way Apache's
 * ScriptAlias does: walk the path segments from the root; the first one that
 * is a regular file is the script and the rest is PATH_INFO (RFC 3875 §4.1.5,
 * §4.1.13).
 *
 * This is the one place that decides what may run, so it trusts nothing the
 * router did: the router resolves dot segments, but the checks below would
 * refuse them anyway, and the final realpath check holds even when every
 * check before it were wrong.
 */
import { constants, type Stats } from 'node:fs';
import { access, open, realpath, stat } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { CgiBadPathError, CgiScriptForbiddenError, CgiScriptNotFoundError, CgiSpawnError } from './cgi-errors.js';

export interface LocatedScript {
  /** The script's segments below the root, '/'-joined and leading '/': appended to the mount's SCRIPT_NAME. */
  scriptPath: string;
  /** The rest of the request path, '' or starting with '/' (RFC 3875 §4.1.5). */
  pathInfo: string;
  /** The fully resolved file that will run: what SCRIPT_FILENAME names and execve() gets. */
  filename: string;
  /** The script's directory: its working directory. */
  directory: string;
  /** Apache's convention: a script called nph-* writes the whole HTTP response itself. */
  nonParsedHeaders: boolean;
}

/**
 * Segments that must never reach the file system: '.' and '..' however they
 * are spelled (percent-encoded once more, which a script or a second decoder
 * might undo), and separators smuggled inside a segment.
 */
const ENCODED_DANGER = /%(?:2e|2f|5c|00)/i;

function checkPathShape(pathInfo: string): void {
  if (pathInfo !== '' && !pathInfo.startsWith('/')) throw new CgiBadPathError(`path '${pathInfo}' is not absolute`);
  if (pathInfo.includes('\0')) throw new CgiBadPathError('path contains NUL');
  if (pathInfo.includes('\\')) throw new CgiBadPathError('path contains a backslash');
  for (const segment of pathInfo.split('/')) {
    if (segment === '.' || segment === '..') throw new CgiBadPathError(`path has a '${segment}' segment`);
    if (ENCODED_DANGER.test(segment)) throw new CgiBadPathError(`path segment '${segment}' encodes a dot, slash, backslash or NUL`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The router carries decoded bytes as latin-1 characters; file names on disk are UTF-8. */
function fileSegment(segment: string): string {
  try {
    return utf8.decode(Buffer.from(segment, 'latin1'));
  } catch {
    throw new CgiScriptNotFoundError(`path segment is not valid UTF-8`);
  }
}

function isInside(path: string, directory: string): boolean {
  return path.startsWith(directory.endsWith(sep) ? directory : directory + sep);
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** How many approved script files the locator remembers (cleared whole when full: a CGI directory holds few scripts). */
const APPROVED_LIMIT = 1024;

/**
 * Which file a stat() saw: the same device and inode, unchanged since
 * (mtime for content, ctime for mode, owner and links), is the same
 * approved file, whatever path led to it.
 */
function fileIdentity(info: Stats): string {
  return `${info.dev}:${info.ino}:${info.mtimeMs}:${info.ctimeMs}`;
}

export class ScriptLocator {
  readonly root: string;
  #realRoot: Promise<string> | null = null;
  /**
   * Candidate path -> the file it last led to and that file's realpath,
   * once it passed every check. A repeat request then costs one stat() per
   * path segment instead of also a realpath(), an access() and reading the
   * file's first bytes, as nginx's open_file_cache keeps its checks.
   */
  readonly #approved = new Map<string, { identity: string; filename: string }>();

  /** `root` must be absolute; it is resolved once, on first use. */
  constructor(root: string) {
    this.root = root;
  }

  /** The root's realpath; rejects if the root is missing or not a directory. */
  realRoot(): Promise<string> {
    this.#realRoot ??= (async () => {
      const real = await realpath(this.root);
      if (!(await stat(real)).isDirectory()) throw new Error(`CGI root '${this.root}' is not a directory`);
      return real;
    })();
    return this.#realRoot;
  }

  /** The script `pathInfo` names, or a CgiError saying why there is none that may run. */
  async locate(pathInfo: string): Promise<LocatedScript> {
    checkPathShape(pathInfo);
    const realRoot = await this.realRoot();
    const segments = pathInfo.split('/').slice(1);
    let candidate = this.root;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] as string;
      // An empty segment ('/sub/' or '//') names the directory walked so far.
      if (segment === '') break;
      if (segment.startsWith('.')) throw new CgiScriptForbiddenError(`'${segment}' is a dotfile`);
      candidate = join(candidate, fileSegment(segment));
      let info;
      try {
        info = await stat(candidate);
      } catch (error) {
        const code = errnoCode(error);
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') throw new CgiScriptNotFoundError(`no script at '${pathInfo}'`);
        if (code === 'EACCES' || code === 'ELOOP') throw new CgiScriptForbiddenError(`'${candidate}': ${code}`);
        throw error;
      }
      if (info.isDirectory()) continue;
      if (!info.isFile()) throw new CgiScriptForbiddenError(`'${candidate}' is not a regular file`);
      const filename = await this.#approve(candidate, info, realRoot);
      const scriptSegments = segments.slice(0, i + 1);
      const rest = segments.slice(i + 1);
      return {
        scriptPath: '/' + scriptSegments.join('/'),
        pathInfo: rest.length === 0 ? '' : '/' + rest.join('/'),
        filename,
        directory: dirname(filename),
        nonParsedHeaders: segment.startsWith('nph-'),
      };
    }
    throw new CgiScriptForbiddenError(`'${pathInfo || '/'}' is a directory`);
  }

  /** The realpath of `candidate` (a regular file, `info` its stat()) if it may run. */
  async #approve(candidate: string, info: Stats, realRoot: string): Promise<string> {
    const identity = fileIdentity(info);
    const known = this.#approved.get(candidate);
    if (known !== undefined && known.identity === identity) return known.filename;
    // Symlinks are fine as long as where they lead is still inside the root:
    // this check alone keeps everything outside the root from running.
    const filename = await realpath(candidate);
    if (!isInside(filename, realRoot)) throw new CgiScriptForbiddenError(`'${candidate}' resolves to '${filename}', outside the CGI root`);
    try {
      await access(filename, constants.X_OK);
    } catch {
      throw new CgiScriptForbiddenError(`'${filename}' is not executable`);
    }
    await checkExecutableFormat(filename);
    if (this.#approved.size >= APPROVED_LIMIT) this.#approved.clear();
    this.#approved.set(candidate, { identity, filename });
    return filename;
  }
}

/**
 * Node's spawn() ends in execvp(), and glibc's execvp() runs a file that
 * the kernel refuses with ENOEXEC (no '#!' line, not a binary) through
 * /bin/sh. A CGI script must never meet a shell it did not ask for, so only
 * files the kernel itself can execute get that far.
 */
async function checkExecutableFormat(filename: string): Promise<void> {
  const handle = await open(filename, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    const magic = buffer.subarray(0, bytesRead);
    const shebang = magic.subarray(0, 2).toString('latin1') === '#!';
    const elf = magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    if (!shebang && !elf) throw new CgiSpawnError(`'${filename}' has no '#!' line and is not an ELF binary`);
  } finally {
    await handle.close();
  }
}
