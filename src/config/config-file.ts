/**
 * The config file: `portico.toml`, or the `[tool.portico]` table of
 * `pyproject.toml`. Top-level keys are the long option names without their
 * dashes (`workers = 4`, `max-requests = 1000`); each `[[mount]]` table is
 * one mount:
 *
 *     [[mount]]
 *     path = "/app"
 *     app = "project.wsgi:application"   # or: cgi = "./cgi-bin", or: static = "./public"
 *     python = "/srv/venv/bin/python"      # a WSGI mount may set its own pool settings
 *     workers = 2
 *
 * and each `[[certificate]]` table one certificate for SNI (certfile,
 * keyfile, hosts).
 *
 * Every mistake stops start-up with the file, the key and its line: a
 * config that silently falls back to defaults is worse than none.
 * Relative directories are taken from the file's own directory.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { ConfigError } from '../errors.js';
import { normalizePrefix } from '../routing/mount-table.js';
import type { Setting } from './setting.js';
import type { CertificateSpec } from './settings/tls-settings.js';
import { MOUNT_SETTING_KEYS, SETTINGS, type MountSpec, type PoolSettings, type ServerOptions, type SettingKey } from './settings.js';

interface FileSetting {
  key: SettingKey;
  setting: Setting;
}

/** 'max-requests' -> the setting, from its long flag ('app' has none: it is the positional APP). */
const BY_FILE_KEY = new Map<string, FileSetting>();
for (const [key, setting] of Object.entries(SETTINGS) as Array<[SettingKey, Setting]>) {
  if (setting.inFile === false) continue;
  const long = setting.flags.find((flag) => flag.startsWith('--'));
  BY_FILE_KEY.set(long === undefined ? key : long.slice(2), { key, setting });
}

/** TLS files named in the file are found from the file's directory, as a [[certificate]]'s are. */
const TLS_FILE_KEYS: ReadonlySet<SettingKey> = new Set(['certfile', 'keyfile', 'caCerts']);

/** What a [[mount]] table may set: the settings of scope 'mount'. */
const POOL_FILE_KEYS = new Map([...BY_FILE_KEY].filter(([, { key }]) => (MOUNT_SETTING_KEYS as readonly string[]).includes(key)));

export interface LoadedConfig {
  path: string;
  options: Partial<ServerOptions>;
  mounts: MountSpec[];
}

/** The config file to read: the one named, else portico.toml, else pyproject.toml with [tool.portico]; null if none. */
export function findConfigFile(named: string | null, cwd: string, flag = '--config'): string | null {
  if (named !== null) {
    const path = resolve(cwd, named);
    if (!existsSync(path)) throw new ConfigError(`${flag}: no such file '${named}'`);
    return path;
  }
  const portico = resolve(cwd, 'portico.toml');
  if (existsSync(portico)) return portico;
  const pyproject = resolve(cwd, 'pyproject.toml');
  if (existsSync(pyproject) && /^\s*\[tool\.portico(\]|\.)/m.test(readFileSync(pyproject, 'utf8'))) return pyproject;
  return null;
}

export function loadConfigFile(path: string): LoadedConfig {
  const source = readFileSync(path, 'utf8');
  let document: Record<string, unknown>;
  try {
    document = parse(source) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) {
      throw new ConfigError(`${path}:${error.line}: ${error.message.split('\n')[0]}`);
    }
    throw error;
  }
  const isPyproject = path.endsWith('pyproject.toml');
  const table = isPyproject ? ((document.tool as Record<string, unknown> | undefined)?.portico as Record<string, unknown> | undefined) : document;
  if (table === undefined) throw new ConfigError(`${path}: no [tool.portico] table`);
  return new ConfigReader(path, source, isPyproject ? 'tool.portico.' : '').read(table);
}

class ConfigReader {
  readonly #path: string;
  readonly #lines: string[];
  readonly #keyPrefix: string;
  readonly #base: string;

  constructor(path: string, source: string, keyPrefix: string) {
    this.#path = path;
    this.#lines = source.split('\n');
    this.#keyPrefix = keyPrefix;
    this.#base = dirname(path);
  }

  read(table: Record<string, unknown>): LoadedConfig {
    const options: Record<string, unknown> = {};
    const mounts: MountSpec[] = [];
    for (const [key, value] of Object.entries(table)) {
      if (key === 'mount') {
        if (!Array.isArray(value)) throw this.#error(key, null, 'expected [[mount]] tables');
        value.forEach((mount, index) => {
          const spec = this.#readMount(mount as Record<string, unknown>, index);
          const prefix = normalizePrefix(spec.path);
          const twin = mounts.findIndex((other) => normalizePrefix(other.path) === prefix);
          if (twin !== -1) throw this.#error('path', index, `mount[${twin}] is on '${prefix || '/'}' already; give each mount its own path`);
          mounts.push(spec);
        });
        continue;
      }
      if (key === 'certificate') {
        options.certificates = this.#readCertificates(value);
        continue;
      }
      const known = BY_FILE_KEY.get(key);
      if (known === undefined) throw this.#error(key, null, `unknown key '${key}'; the keys are the long option names of 'portico --help' without their dashes, and [[mount]]`);
      options[known.key] = this.#convert(known, key, value, null);
    }
    // An application named in the file is found from the file's directory, as a [[mount]]'s is.
    if (options.app !== undefined) options.chdir ??= this.#base;
    return { path: this.#path, options: options as Partial<ServerOptions>, mounts };
  }

  #readMount(mount: Record<string, unknown>, index: number): MountSpec {
    const where = index;
    const path = mount.path;
    if (typeof path !== 'string') throw this.#error('path', where, "each [[mount]] needs path = \"/prefix\"");
    if (!path.startsWith('/')) throw this.#error('path', where, `the mount path '${path}' must start with '/'`);
    const targets = (['app', 'cgi', 'static'] as const).filter((kind) => mount[kind] !== undefined);
    if (targets.length !== 1) throw this.#error('path', where, 'a [[mount]] takes exactly one of app, cgi or static');
    const kind = targets[0] as 'app' | 'cgi' | 'static';
    const target = mount[kind];
    if (typeof target !== 'string' || target === '') throw this.#error(kind, where, 'expected a non-empty string');

    if (kind !== 'app') {
      for (const key of Object.keys(mount)) if (key !== 'path' && key !== kind) throw this.#error(key, where, `unknown key '${key}' in a ${kind} mount`);
      return { kind, path, root: this.#directory(target, kind, where) };
    }
    const settings: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(mount)) {
      if (key === 'path' || key === 'app') continue;
      const known = POOL_FILE_KEYS.get(key);
      if (known === undefined) {
        throw this.#error(key, where, `unknown key '${key}' in a WSGI mount; it may set ${[...POOL_FILE_KEYS.keys()].join(', ')}`);
      }
      settings[known.key] = this.#convert(known, key, value, where);
    }
    // A file path in `app` is found from the mount's directory, which defaults to the file's.
    settings.chdir ??= this.#base;
    return { kind: 'app', path, app: target, settings: settings as Partial<PoolSettings> };
  }

  /**
   * [[certificate]] tables, for SNI: certfile, keyfile (absent when the
   * certfile holds the key), hosts (absent for the names the certificate
   * gives). Files are found from the config file's directory.
   */
  #readCertificates(value: unknown): CertificateSpec[] {
    if (!Array.isArray(value)) throw this.#error('certificate', null, 'expected [[certificate]] tables, with certfile, keyfile and hosts');
    return value.map((table: Record<string, unknown>, index) => {
      const where = `certificate[${index}]`;
      for (const key of Object.keys(table)) {
        if (!['certfile', 'keyfile', 'hosts'].includes(key)) throw this.#error('certificate', null, `unknown key '${key}' in ${where}; it takes certfile, keyfile and hosts`);
      }
      const file = (key: string): string | null => {
        const path = table[key];
        if (path === undefined) return null;
        if (typeof path !== 'string' || path === '') throw this.#error('certificate', null, `${where}.${key}: expected a file name`);
        return resolve(this.#base, path);
      };
      const certfile = file('certfile');
      if (certfile === null) throw this.#error('certificate', null, `${where} needs certfile = "site.crt"`);
      const hosts = table.hosts;
      if (hosts !== undefined && (!Array.isArray(hosts) || hosts.some((host) => typeof host !== 'string' || host === ''))) {
        throw this.#error('certificate', null, `${where}.hosts: expected a list of host names, as ["example.com", "*.example.com"]`);
      }
      return { certfile, keyfile: file('keyfile'), hosts: (hosts as string[] | undefined) ?? null };
    });
  }

  /** A TOML value through the same parser the command line uses, so both accept exactly the same. */
  #convert({ key: settingKey, setting }: FileSetting, key: string, value: unknown, mount: number | null): unknown {
    const flag = `${this.#keyPrefix}${key}`;
    const parseOne = (item: unknown): unknown => {
      if (typeof item !== 'string' && typeof item !== 'number') throw this.#error(key, mount, `expected a string or number, got ${JSON.stringify(item)}`);
      try {
        return setting.parse ? setting.parse(String(item), flag) : item;
      } catch (error) {
        if (error instanceof ConfigError) throw this.#error(key, mount, error.message.replace(`${flag}: `, ''));
        throw error;
      }
    };
    let result: unknown;
    if (setting.parse === undefined) {
      if (typeof value !== 'boolean') throw this.#error(key, mount, `expected true or false, got ${JSON.stringify(value)}`);
      result = value;
    } else if (settingKey === 'env') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw this.#error(key, mount, 'expected a table of NAME = "value"');
      result = Object.fromEntries(Object.entries(value).map(([name, v]) => [name, String(v)]));
    } else if (setting.multiple || settingKey === 'pythonpath') {
      const items = Array.isArray(value) ? value : [value];
      result = settingKey === 'pythonpath' ? items.map((item) => (parseOne(item) as string[])).flat() : items.map(parseOne);
      if (setting.collect) result = setting.collect(result as unknown[]);
    } else {
      result = parseOne(value);
    }
    if (settingKey === 'chdir') result = this.#directory(result as string, key, mount);
    // Read again at every SIGHUP, from wherever the front's working directory is then.
    if (TLS_FILE_KEYS.has(settingKey)) result = resolve(this.#base, result as string);
    return result;
  }

  /** A directory named in the file: resolved from the file's directory, and it must exist. */
  #directory(path: string, key: string, mount: number | null): string {
    const absolute = isAbsolute(path) ? path : resolve(this.#base, path);
    let isDirectory = false;
    try {
      isDirectory = statSync(absolute).isDirectory();
    } catch {
      // reported below
    }
    if (!isDirectory) throw this.#error(key, mount, `'${path}' is not a directory (looked for ${absolute})`);
    return absolute;
  }

  /** `file:line: key: message`, with the line of `key` (in the n-th [[mount]] when given). */
  #error(key: string, mount: number | null, message: string): ConfigError {
    const line = this.#lineOf(key, mount);
    const name = mount === null ? `${this.#keyPrefix}${key}` : `${this.#keyPrefix}mount[${mount}].${key}`;
    return new ConfigError(`${this.#path}${line === null ? '' : `:${line}`}: ${name}: ${message}`);
  }

  /**
   * The line of `key`: its assignment in the right table (the n-th
   * [[mount]], or the top-level table, which in pyproject.toml is
   * [tool.portico]), else a table header of that name; null if not found.
   */
  #lineOf(key: string, mount: number | null): number | null {
    const lines = this.#lines;
    const isHeader = (line: string): boolean => /^\s*\[/.test(line);
    let start = 0;
    if (mount !== null) {
      let seen = -1;
      start = lines.findIndex((line) => /^\s*\[\[\s*(tool\.portico\.)?mount\s*\]\]/.test(line) && ++seen === mount) + 1;
      if (start === 0) return null;
    } else if (this.#keyPrefix !== '') {
      start = lines.findIndex((line) => /^\s*\[\s*tool\.portico\s*\]/.test(line)) + 1;
    }
    let end = lines.findIndex((line, i) => i >= start && isHeader(line));
    if (end === -1) end = lines.length;
    const escaped = key.replace(/[-.]/g, '\\$&');
    const assignment = new RegExp(`^\\s*["']?${escaped}["']?\\s*=`);
    for (let i = start; i < end; i++) if (assignment.test(lines[i] as string)) return i + 1;
    const table = new RegExp(`^\\s*\\[\\[?\\s*(tool\\.portico\\.)?${escaped}\\s*\\]`);
    const header = lines.findIndex((line) => table.test(line));
    if (header !== -1) return header + 1;
    return mount === null ? null : start;
  }
}
