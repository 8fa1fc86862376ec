/**
 * What the static tests share: a copy of the fixture site in a temporary
 * directory, grown with what git should not carry (symlinks, a FIFO, odd
 * names, a file outside the root), and the mount harness with the handler
 * under test behind two doors:
 * - '/static/...' goes through the real Router, as in production;
 * - directTarget(pathInfo) hands the bytes to the handler as PATH_INFO
 *   untouched, to prove the handler's own defences without the router's help.
 */
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { MountHandler } from '../../src/routing/mount-handler.js';
import { startMountHarness, type MountHarness, type Reply } from '../helpers/mount-harness.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/temp-dir.js';

export { memoryLog, type MountHarness, type Reply } from '../helpers/mount-harness.js';

export const FIXTURE_SITE = join(REPO_ROOT, 'test', 'fixtures', 'static');
export const SECRET = 'outside-the-root-must-never-be-served';

export interface Site {
  /** The directory to serve. */
  root: string;
  /** A sibling of the root, holding secret.txt. */
  outside: string;
  remove(): void;
}

export function makeSite(): Site {
  const temp = makeTempDir('portico-static-');
  const root = join(temp.path, 'www');
  const outside = join(temp.path, 'outside');
  cpSync(FIXTURE_SITE, root, { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), SECRET + '\n');
  mkdirSync(join(outside, 'dir'));
  writeFileSync(join(outside, 'dir', 'index.html'), SECRET + '\n');
  mkdirSync(join(root, '.git'));
  writeFileSync(join(root, '.git', 'config'), '[core]\n');
  mkdirSync(join(root, 'empty'));
  writeFileSync(join(root, 'big.bin'), Buffer.alloc(100 * 1024, 'abcdefghij'));
  writeFileSync(join(root, 'file10k.bin'), Buffer.alloc(10 * 1024, 'x'));
  writeFileSync(join(root, '%2e%2e'), 'a file literally named %2e%2e\n');
  writeFileSync(join(root, 'café.txt'), 'utf-8 name\n');
  // Symlinks that stay inside the root are served...
  symlinkSync('hello.txt', join(root, 'link-in.txt'));
  symlinkSync('docs', join(root, 'docs-link'));
  // ...and these, which lead out, never are.
  symlinkSync('../outside/secret.txt', join(root, 'link-out.txt'));
  symlinkSync(outside, join(root, 'dir-out'));
  symlinkSync('../outside/dir', join(root, 'index-out'));
  mkdirSync(join(root, 'trap'));
  symlinkSync('../../outside/secret.txt', join(root, 'trap', 'index.html'));
  execFileSync('mkfifo', [join(root, 'fifo')]);
  return { root, outside, remove: temp.remove };
}

/** A MountHarness with `handler` at /static, and a door past the router (see directTarget). */
export function startStaticHarness(handler: MountHandler): Promise<MountHarness> {
  return startMountHarness({
    mounts: [{ prefix: '/static', handler }],
    bypass: (target) =>
      target.startsWith(DIRECT)
        ? { handler, match: { scriptName: '/direct', pathInfo: Buffer.from(target.slice(DIRECT.length), 'base64url').toString('latin1'), query: '' } }
        : null,
  });
}

const DIRECT = '/direct?p=';

/** The target that hands `pathInfo` to the handler as PATH_INFO, past the router. */
export function directTarget(pathInfo: string): string {
  return DIRECT + Buffer.from(pathInfo, 'latin1').toString('base64url');
}

/** Response headers as [name, value] pairs in wire order, without Date (which moves with the clock). */
export function headersBesidesDate(reply: Reply): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < reply.rawHeaders.length; i += 2) {
    const name = reply.rawHeaders[i] as string;
    if (name.toLowerCase() !== 'date') pairs.push([name, reply.rawHeaders[i + 1] as string]);
  }
  return pairs;
}
