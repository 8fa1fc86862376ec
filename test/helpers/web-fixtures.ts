/**
 * The fixture tree of the web-server tests (test/fixtures/web): config
 * files good and bad, a site with WSGI, CGI and static mounts, and small
 * apps that say which pool served them.
 */
import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

export const WEB_FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'web');
export const WEB_APPS = join(WEB_FIXTURES, 'apps');
/** portico.toml with /app (environ echo), /cgi-bin/ and /static/, from tree/. */
export const WEB_SITE = join(WEB_FIXTURES, 'site');
export const WEB_SITE_CONFIG = join(WEB_SITE, 'portico.toml');
/** No config file here: project/wsgi.py, cgi-bin/ and public/ for mounts given on the command line. */
export const WEB_TREE = join(WEB_FIXTURES, 'tree');
export const WEB_CGI_BIN = join(WEB_TREE, 'cgi-bin');
export const WEB_PUBLIC = join(WEB_TREE, 'public');
export const BAD_CONFIGS = join(WEB_FIXTURES, 'bad');
export const STATIC_FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'static');

/** The 1-based line of `file` holding `text` outside a comment, for checking that an error names the right one. */
export function lineOf(file: string, text: string): number {
  const index = readFileSync(file, 'utf8').split('\n').findIndex((line) => !line.trimStart().startsWith('#') && line.includes(text));
  if (index === -1) throw new Error(`${file} has no line with ${JSON.stringify(text)}`);
  return index + 1;
}

/** What pool_probe.py (and flask_probe.py's /whoami) answer. */
export interface Whoami {
  pid: number;
  executable: string;
  cwd: string;
  sys_path: string[];
  env: Record<string, string>;
  multithread: boolean;
  script_name: string;
  path_info: string;
  flask?: string;
}

/** The interpreter binary a process runs, symlinks resolved; null once it is gone. */
export function executableOf(pid: number): string | null {
  try {
    return realpathSync(readlinkSync(`/proc/${pid}/exe`));
  } catch {
    return null;
  }
}

/** `<script>alert(` HTML-escaped, as a named or a numeric character reference. */
export const ESCAPED_SCRIPT_ALERT = /(&lt;|&#0*60;|&#x0*3c;)script(&gt;|&#0*62;|&#x0*3e;)alert\(/i;
