/**
 * docs/deploy.md shows the configurations the deployment test runs: each
 * block after a `<!-- test/deploy: NAME -->` marker must be what
 * balancer-configs.ts renders with the docs' addresses, or the recipe file
 * in test/deploy/recipes/. On a difference, the failure prints the block as
 * it should be, to paste into the page.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';
import { DOC_BALANCER, DOC_CLUSTER, haproxySite, hostCommand, nginxSite, nginxUwsgiSite } from './balancer-configs.js';

const DOC = join(REPO_ROOT, 'docs', 'deploy.md');
const RECIPES = join(REPO_ROOT, 'test', 'deploy', 'recipes');

/** The fenced block that follows each marker, by the marker's name. */
function markedBlocks(markdown: string): Map<string, string> {
  const blocks = new Map<string, string>();
  const marker = /<!-- test\/deploy: ([a-z-]+) -->\n```[a-z]*\n([\s\S]*?)```\n/g;
  for (const match of markdown.matchAll(marker)) blocks.set(match[1] as string, match[2] as string);
  return blocks;
}

const expected: Record<string, () => string> = {
  'nginx-host': () => `${hostCommand('nginx', DOC_BALANCER)}\n`,
  'nginx-site': () => nginxSite(DOC_CLUSTER),
  'uwsgi-host': () => `${hostCommand('nginx-uwsgi', DOC_BALANCER)}\n`,
  'uwsgi-site': () => nginxUwsgiSite(DOC_CLUSTER),
  'haproxy-host': () => `${hostCommand('haproxy', DOC_BALANCER)}\n`,
  'haproxy-site': () => haproxySite(DOC_CLUSTER),
  dockerfile: () => readFileSync(join(RECIPES, 'Dockerfile'), 'utf8'),
  kubernetes: () => readFileSync(join(RECIPES, 'kubernetes.yaml'), 'utf8'),
};

describe('docs/deploy.md: the recipes are the ones the deployment test runs (#18)', () => {
  const blocks = markedBlocks(readFileSync(DOC, 'utf8'));

  it('has a marked block for each, and no other', () => {
    assert.deepEqual([...blocks.keys()].sort(), Object.keys(expected).sort());
  });

  for (const [name, render] of Object.entries(expected)) {
    it(`shows ${name} as test/deploy has it`, () => {
      const want = render();
      assert.equal(blocks.get(name), want, `docs/deploy.md's ${name} block should read:\n${want}`);
    });
  }

  it("gives the Kubernetes pod a grace period above --shutdown-delay plus --graceful-timeout, and probes the control listener's port", () => {
    const manifest = readFileSync(join(RECIPES, 'kubernetes.yaml'), 'utf8');
    const option = (name: string): number => Number(new RegExp(`- ${name}\\n\\s+- "?(\\d+)"?`).exec(manifest)?.[1]);
    const grace = Number(/terminationGracePeriodSeconds: (\d+)/.exec(manifest)?.[1]);
    const delay = option('--shutdown-delay');
    const graceful = option('--graceful-timeout');
    assert.ok(delay > 0 && graceful > 0, 'the manifest sets both');
    assert.ok(grace >= delay + graceful + 5, `terminationGracePeriodSeconds ${grace} < --shutdown-delay ${delay} + --graceful-timeout ${graceful} + 5`);
    const controlPort = /- --control-bind\n\s+- [\d.]+:(\d+)/.exec(manifest)?.[1];
    assert.match(manifest, new RegExp(`- name: control\\n\\s+containerPort: ${controlPort}\\n`));
    assert.match(manifest, /readinessProbe:\n\s+httpGet:\n\s+path: \/readyz\n\s+port: control\n/);
    assert.match(manifest, /livenessProbe:\n\s+httpGet:\n\s+path: \/healthz\n\s+port: control\n/);
  });

  it('runs the Docker image as a user of its own, not root', () => {
    const dockerfile = readFileSync(join(RECIPES, 'Dockerfile'), 'utf8');
    const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    assert.ok(users.length > 0 && users.at(-1) !== 'root' && users.at(-1) !== '0', `USER lines: ${users.join(', ')}`);
  });
});
