/**
 * Small hot files kept in memory with their stat and their response headers
 * ready, like nginx's open_file_cache: a hit costs no system call at all.
 *
 * Invalidation is by revalidation, not by notification. An entry is trusted
 * for `validityMs` after it was last checked (nginx's open_file_cache_valid);
 * after that, the next request resolves the path again (realpath and stat)
 * and keeps the entry only if it is still the same file: same real path,
 * device, inode, size and mtime. So an edit is served at most `validityMs`
 * late, and a file costs at most one stat per interval however hot it is.
 * fs.watch was rejected: it is not reliable on every filesystem (NFS, bind
 * mounts, some containers), each watch holds an inotify slot out of a small
 * per-user budget, a watch on a file misses it being replaced by rename
 * (how editors and deploy tools write), and it would not notice a symlink
 * on the path being changed — which the revalidation re-checks too.
 *
 * Memory is bounded twice: by a number of entries and by the bytes of
 * their bodies together (nginx bounds only the first, but it keeps
 * descriptors, not bytes). Past either bound an entry not used since the
 * last eviction goes first, oldest first: the CLOCK approximation of least
 * recently used, because moving an entry to the back of the Map on every hit
 * costs more than the rest of the lookup. A file larger than the bytes
 * bound is never kept.
 */
import { open } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import { fileHeaders } from './file-headers.js';

export interface OpenFileCacheOptions {
  /** Files larger than this are always streamed. Default 64 KiB. */
  maxFileBytes: number;
  /** Default 1024. */
  maxEntries: number;
  /** The bodies' bytes together. Default 16 MiB. */
  maxBytes: number;
  /** How long an entry is served without a stat. Default 1000 ms. */
  validityMs: number;
}

export const DEFAULT_OPEN_FILE_CACHE: OpenFileCacheOptions = { maxFileBytes: 64 * 1024, maxEntries: 1024, maxBytes: 16 * 1024 * 1024, validityMs: 1000 };

export interface CachedFile {
  /** The real path the body was read from. */
  readonly path: string;
  readonly stat: Stats;
  readonly body: Buffer;
  /** The 200 response headers, Content-Length included. */
  readonly headers: Readonly<Record<string, string | number>>;
  checkedAt: number;
  /** Asked for since the last eviction passed it (CLOCK's reference bit). */
  used: boolean;
}

export class OpenFileCache {
  readonly options: OpenFileCacheOptions;
  /** In the order the clock hand meets them: the first key is the next candidate for eviction. */
  readonly #entries = new Map<string, CachedFile>();
  #bytes = 0;

  constructor(options: Partial<OpenFileCacheOptions> = {}) {
    this.options = { ...DEFAULT_OPEN_FILE_CACHE, ...options };
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Body bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The entry for `key` if it was checked within the validity interval. */
  fresh(key: string, now: number): CachedFile | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || now - entry.checkedAt >= this.options.validityMs) return undefined;
    entry.used = true;
    return entry;
  }

  /**
   * After the path was resolved again: the entry if it still is that file
   * (and it is trusted for another interval), else undefined and it is gone.
   */
  confirm(key: string, path: string, stat: Stats, now: number): CachedFile | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.path !== path || !sameFile(entry.stat, stat)) {
      this.forget(key);
      return undefined;
    }
    entry.checkedAt = now;
    entry.used = true;
    return entry;
  }

  /** Whether a file of this stat is small enough to be kept. */
  admits(stat: Stats): boolean {
    return stat.isFile() && stat.size <= this.options.maxFileBytes && stat.size <= this.options.maxBytes;
  }

  /**
   * Reads the file into a new entry, or resolves undefined if it changed
   * while being read (the caller then streams it instead).
   */
  async load(key: string, path: string, typeName: string, now: number): Promise<CachedFile | undefined> {
    // O_NOFOLLOW: the path was just realpath'd, so a symlink here means it was swapped since.
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    let entry: CachedFile;
    try {
      // The stat and the bytes come from one descriptor, so they describe the same inode.
      const before = await handle.stat();
      if (!this.admits(before)) return undefined;
      const body = await handle.readFile();
      const after = await handle.stat();
      if (!sameFile(before, after) || body.length !== before.size) return undefined;
      const headers = { ...fileHeaders(typeName, before), 'Content-Length': body.length };
      entry = { path, stat: before, body, headers, checkedAt: now, used: false };
    } finally {
      await handle.close();
    }
    this.forget(key);
    this.#makeRoom(entry.body.length);
    this.#entries.set(key, entry);
    this.#bytes += entry.body.length;
    return entry;
  }

  /** Drops the entry for a path that no longer names a cacheable file. */
  forget(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= entry.body.length;
  }

  /**
   * Evicts until one more entry of `bytes` fits: an entry used since the
   * hand last passed it gets a second chance, at the back. The newcomer is
   * not in the Map yet, so it cannot be the one evicted.
   */
  #makeRoom(bytes: number): void {
    while (this.#entries.size > 0 && (this.#entries.size >= this.options.maxEntries || this.#bytes + bytes > this.options.maxBytes)) {
      const [key, entry] = this.#entries.entries().next().value as [string, CachedFile];
      if (entry.used) {
        entry.used = false;
        this.#entries.delete(key);
        this.#entries.set(key, entry);
      } else {
        this.forget(key);
      }
    }
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }
}

/** Same inode with the same content as far as stat can tell. */
function sameFile(a: Stats, b: Stats): boolean {
  // ctime too: it moves on any write even when mtime is put back (touch -r, rsync -t).
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}
