/**
 * --reload: watches an application's Python sources and calls back once a
 * burst of changes has settled, as an editor's save often writes a file
 * more than once.
 */
import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, join, resolve } from 'node:path';

/** Changes closer together than this are one reload. */
const SETTLE_MS = 300;
/** Enough for any project's source tree; a watch per directory costs an inotify slot. */
const MAX_DIRECTORIES = 4096;
/** Directories no application imports from, and that churn on their own. */
const IGNORED_SEGMENTS = new Set(['__pycache__', '.git', 'node_modules', '.venv', 'venv', '.tox', '.mypy_cache', '.pytest_cache']);

/** What python/portico/loader.py runs as a script file rather than imports as a module. */
const SCRIPT_SUFFIXES = ['.py', '.wsgi'];

/**
 * The file an APP spec names, made absolute, when it names one that exists:
 * `path/to/app.py`, `app.wsgi:application`; null for a module. Decided as the
 * loader decides (a '/' makes a path; else a .py/.wsgi suffix and an existing
 * file), relative to --chdir, where the worker runs.
 */
export function appScriptFile(app: string, chdir: string): string | null {
  const target = app.trim().split(':', 1)[0] as string;
  if (!target.includes('/') && !SCRIPT_SUFFIXES.some((suffix) => target.endsWith(suffix))) return null;
  const path = resolve(chdir, target);
  try {
    return statSync(path).isFile() ? path : null;
  } catch {
    return null;
  }
}

export class CodeWatcher {
  readonly #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;

  /**
   * Watches the trees under `directories` for .py files, and `extraFiles` as
   * they are; `onChange` gets the first changed path of each burst.
   */
  constructor(directories: string[], extraFiles: string[], onChange: (path: string) => void) {
    let first: string | null = null;
    const changed = (path: string): void => {
      first ??= path;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => {
        const path = first as string;
        first = null;
        onChange(path);
      }, SETTLE_MS);
    };
    // One watch per directory, not fs.watch's recursive mode, which on Linux
    // loses track of files that editors replace by rename.
    const watched = new Set<string>();
    const watchTree = (directory: string): void => {
      if (watched.has(directory) || watched.size >= MAX_DIRECTORIES) return;
      let entries;
      try {
        entries = readdirSync(directory, { withFileTypes: true });
      } catch {
        return; // gone, or not ours to read
      }
      watched.add(directory);
      this.#watchers.push(
        watch(directory, { persistent: false }, (_event, name) => {
          if (name === null) return;
          const path = join(directory, name.toString());
          if (name.toString().endsWith('.py')) changed(path);
          else if (!IGNORED_SEGMENTS.has(name.toString())) watchTree(path); // perhaps a new package
        }),
      );
      for (const entry of entries) {
        if (entry.isDirectory() && !IGNORED_SEGMENTS.has(entry.name)) watchTree(join(directory, entry.name));
      }
    };
    for (const directory of directories) watchTree(directory);
    for (const file of extraFiles) {
      // The file's directory, not the file: an editor that saves by rename replaces the inode a file watch holds.
      const directory = join(file, '..');
      const name = basename(file);
      this.#watchers.push(
        watch(directory, { persistent: false }, (_event, changedName) => {
          if (changedName?.toString() === name) changed(file);
        }),
      );
    }
  }

  close(): void {
    clearTimeout(this.#timer);
    for (const watcher of this.#watchers) watcher.close();
  }
}
