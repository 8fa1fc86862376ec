/**
 * The raw-request corpus in test/conformance/http/: each case a file of
 * exact bytes beside what it must produce (gunicorn's tests/requests/ idea).
 *   invalid/NNN-name.http + .expect.json  {"status": 400, "headReachesApp"?: true, "viaNginx"?: 200}
 *   valid/NNN-name.http   + .expect.json  environ keys the app must see
 *     (null: must be absent), "body", and "keepAlive": false when the
 *     request ends the connection, "viaNginx" when nginx refuses it itself,
 *     "viaNginxEnviron" for the keys a proxy legitimately rewrites (their
 *     values through nginx), "frontAnswers" when portico answers it itself.
 *   limits.json  the --limit-request-* flags the server runs with.
 * generate-corpus.py writes them all from its tables.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

export const CORPUS_DIR = join(REPO_ROOT, 'test', 'conformance', 'http');
export const CONFORMANCE_APPS = join(REPO_ROOT, 'test', 'conformance', 'apps');

export interface InvalidCase {
  name: string;
  bytes: Buffer;
  status: number;
  /** The head is valid and only the body is broken: the app may see the request start. */
  headReachesApp: boolean;
  /** nginx accepts this and forwards its own re-framing: the status it ends with (0: an HTTP/0.9 answer). */
  viaNginx: number | undefined;
}

export interface ValidCase {
  name: string;
  bytes: Buffer;
  environ: Record<string, string | null>;
  body: string | undefined;
  keepAlive: boolean;
  /** nginx refuses this itself, with this status. */
  viaNginx: number | undefined;
  /** What the app sees through nginx: `environ` with these keys replaced (null: absent), since a proxy rewrites them. */
  viaNginxEnviron: Record<string, string | null>;
  /** Portico answers this itself, with this status and these header fields, and the app sees nothing. */
  frontAnswers: { status: number; headers: string[] } | undefined;
}

/** The --limit-request-* flags and values the corpus server runs with, as CLI arguments. */
export function corpusLimitArgs(): string[] {
  const limits = JSON.parse(readFileSync(join(CORPUS_DIR, 'limits.json'), 'utf8')) as Record<string, number>;
  return Object.entries(limits).flatMap(([flag, value]) => [flag, String(value)]);
}

function load(kind: 'invalid' | 'valid'): Array<{ name: string; bytes: Buffer; expect: Record<string, unknown> }> {
  const dir = join(CORPUS_DIR, kind);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.http'))
    .sort()
    .map((file) => {
      const name = file.slice(0, -'.http'.length);
      return {
        name,
        bytes: readFileSync(join(dir, file)),
        expect: JSON.parse(readFileSync(join(dir, `${name}.expect.json`), 'utf8')) as Record<string, unknown>,
      };
    });
}

export function invalidCases(): InvalidCase[] {
  return load('invalid').map(({ name, bytes, expect }) => ({
    name,
    bytes,
    status: expect.status as number,
    headReachesApp: expect.headReachesApp === true,
    viaNginx: expect.viaNginx as number | undefined,
  }));
}

export function validCases(): ValidCase[] {
  return load('valid').map(({ name, bytes, expect }) => {
    const { body, keepAlive, viaNginx, viaNginxEnviron, frontAnswers, ...environ } = expect;
    return {
      name,
      bytes,
      environ: environ as Record<string, string | null>,
      body: body as string | undefined,
      keepAlive: keepAlive !== false,
      viaNginx: viaNginx as number | undefined,
      viaNginxEnviron: (viaNginxEnviron ?? {}) as Record<string, string | null>,
      frontAnswers: frontAnswers as ValidCase['frontAnswers'],
    };
  });
}

/** A small seeded PRNG (mulberry32), so that every run splits and mutates the same way. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type SendMode = 'whole' | 'bytewise' | 'random';

/** `bytes` cut as the mode says: one piece, one byte per piece, or seeded random pieces. */
export function splitBytes(bytes: Buffer, mode: SendMode, random: () => number): Buffer[] {
  if (mode === 'whole') return [bytes];
  const pieces: Buffer[] = [];
  for (let pos = 0; pos < bytes.length; ) {
    const size = mode === 'bytewise' ? 1 : 1 + Math.floor(random() * 16);
    pieces.push(bytes.subarray(pos, pos + size));
    pos += size;
  }
  return pieces;
}
