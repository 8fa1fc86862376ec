import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import * as cgiErrors from '../src/cgi/cgi-errors.js';
import { CgiSpawnerError } from '../src/cgi/cgi-spawner-error.js';
import { ERROR_CODES, type ErrorCode } from '../src/error-codes.js';
import * as errors from '../src/errors.js';
import { refusalForClientError } from '../src/http/client-error.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sources(dir: string): Array<[string, string]> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry): Array<[string, string]> => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [[path, readFileSync(path, 'utf8')]] : [];
  });
}

/** One instance of every PorticoError subclass, whatever its constructor takes. */
function everyErrorClass(): errors.PorticoError[] {
  const candidates: unknown[] = [...Object.values(errors), ...Object.values(cgiErrors), CgiSpawnerError];
  const classes = candidates.filter(
    (value): value is new (...args: unknown[]) => errors.PorticoError =>
      typeof value === 'function' && value.prototype instanceof errors.PorticoError && value !== cgiErrors.CgiError,
  );
  return classes.map((Class) => new Class('message', 1));
}

describe('error codes', () => {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];

  it('are PORTICO_ERR_ names, each with its own one-line meaning', () => {
    for (const code of codes) assert.match(code, /^PORTICO_ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/);
    const meanings = Object.values(ERROR_CODES);
    for (const meaning of meanings) assert.match(meaning, /^[^\n]{10,}$/);
    assert.equal(new Set(meanings).size, meanings.length, 'two codes that mean the same are one code');
  });

  it('are declared once in the table', () => {
    const table = readFileSync(join(SRC, 'error-codes.ts'), 'utf8');
    const declared = [...table.matchAll(/^\s+(PORTICO_ERR_\w+):/gm)].map((match) => match[1] as string);
    assert.deepEqual([...declared].sort(), [...codes].sort());
    assert.equal(new Set(declared).size, declared.length);
  });

  it('are what every error class carries', () => {
    const instances = everyErrorClass();
    assert.ok(instances.length >= 14, `found ${instances.length} classes`);
    for (const error of instances) assert.ok(Object.hasOwn(ERROR_CODES, error.code), `${error.name}: ${error.code}`);
    const owned = new Set(instances.map((error) => error.code));
    assert.equal(owned.size, instances.length, 'each class has a code of its own');
  });

  it('are written out in full wherever they are used, and every one is used', () => {
    const used = new Set<string>();
    for (const [path, text] of sources(SRC)) {
      if (path.endsWith('error-codes.ts')) continue;
      assert.doesNotMatch(text, /PORTICO_ERR_\$\{/, `${path} builds a code from pieces`);
      assert.doesNotMatch(text, /`PORTICO_ERR_/, `${path} builds a code from pieces`);
      for (const [code] of text.matchAll(/PORTICO_ERR_[A-Z0-9_]*/g)) {
        assert.ok(Object.hasOwn(ERROR_CODES, code), `${path}: ${code} is not in src/error-codes.ts`);
        used.add(code);
      }
    }
    assert.deepEqual(codes.filter((code) => !used.has(code)), [], 'codes in the table that nothing raises');
  });

  it("give Node's parser errors a code of ours, keeping Node's in the reason", () => {
    const parse = Object.assign(new Error('Parse Error: Invalid method encountered'), { code: 'HPE_INVALID_METHOD' });
    assert.deepEqual(refusalForClientError(parse), { refuse: 400, code: 'PORTICO_ERR_PARSE', reason: 'HPE_INVALID_METHOD: Parse Error: Invalid method encountered' });
    const overflow = Object.assign(new Error('Header overflow'), { code: 'HPE_HEADER_OVERFLOW' });
    assert.deepEqual([refusalForClientError(overflow).refuse, refusalForClientError(overflow).code], [431, 'PORTICO_ERR_HEAD_TOO_LARGE']);
    const timeout = Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
    assert.deepEqual([refusalForClientError(timeout).refuse, refusalForClientError(timeout).code], [408, 'PORTICO_ERR_HEADERS_TIMEOUT']);
  });
});
