import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MountHandler } from '../../src/routing/mount-handler.js';
import { MountTable, normalizePrefix, resolveSegments } from '../../src/routing/mount-table.js';
import { ConfigError } from '../../src/errors.js';

function handler(kind: string): MountHandler {
  return { kind, handle: () => undefined };
}

const table = new MountTable([
  { prefix: normalizePrefix('/'), handler: handler('root') },
  { prefix: normalizePrefix('/app'), handler: handler('app') },
  { prefix: normalizePrefix('/app/admin/'), handler: handler('admin') },
  { prefix: normalizePrefix('/static/'), handler: handler('static') },
]);

function split(target: string): [string, string, string] | string {
  const route = table.route(target);
  if (route.kind !== 'mount') return route.kind;
  return [route.mount.handler.kind, route.match.scriptName, route.match.pathInfo];
}

describe('MountTable', () => {
  it('matches the longest prefix on whole segments', () => {
    assert.deepEqual(split('/app'), ['app', '/app', '']);
    assert.deepEqual(split('/app/'), ['app', '/app', '/']);
    assert.deepEqual(split('/app/x/y'), ['app', '/app', '/x/y']);
    assert.deepEqual(split('/apple'), ['root', '', '/apple']);
    assert.deepEqual(split('/app/admin/users'), ['admin', '/app/admin', '/users']);
    assert.deepEqual(split('/app/administrator'), ['app', '/app', '/administrator']);
    assert.deepEqual(split('/'), ['root', '', '/']);
  });

  it('never lets an encoded slash move the split', () => {
    assert.deepEqual(split('/app%2Fadmin/users'), ['root', '', '/app/admin/users']);
    assert.deepEqual(split('/app/admin%2Fusers'), ['app', '/app', '/admin/users']);
    assert.deepEqual(split('/static%2F..%2Fapp'), ['root', '', '/static/../app']);
  });

  it('matches an encoded spelling of the prefix and reports it decoded', () => {
    assert.deepEqual(split('/%61pp/x'), ['app', '/app', '/x']);
  });

  it('resolves dot segments, encoded or not, and refuses climbing above the root', () => {
    assert.deepEqual(split('/static/../app/x'), ['app', '/app', '/x']);
    assert.deepEqual(split('/static/%2e%2e/app/x'), ['app', '/app', '/x']);
    assert.deepEqual(split('/app/./x/.'), ['app', '/app', '/x/']);
    assert.equal(split('/../etc/passwd'), 'bad-path');
    assert.equal(split('/static/../../etc/passwd'), 'bad-path');
    assert.equal(split('/%2e%2e/etc/passwd'), 'bad-path');
  });

  it('keeps the query raw', () => {
    const route = table.route('/app/x?a=%20&b=%2F');
    assert.equal(route.kind, 'mount');
    assert.equal(route.kind === 'mount' && route.match.query, 'a=%20&b=%2F');
  });

  it('reports no mount when nothing matches', () => {
    const only = new MountTable([{ prefix: '/app', handler: handler('app') }]);
    assert.equal(only.route('/other').kind, 'not-found');
  });

  it('refuses two mounts on one prefix, and prefixes without a leading slash', () => {
    assert.throws(() => new MountTable([{ prefix: '/a', handler: handler('x') }, { prefix: normalizePrefix('/a/'), handler: handler('y') }]), ConfigError);
    assert.throws(() => normalizePrefix('app'), ConfigError);
  });
});

describe('resolveSegments', () => {
  it('decodes each segment separately', () => {
    assert.deepEqual(resolveSegments('/a%2Fb/c'), ['a/b', 'c']);
    assert.deepEqual(resolveSegments('/%C3%A9'), ['\xc3\xa9']);
    assert.deepEqual(resolveSegments('/a/b/..'), ['a', '']);
  });
});
