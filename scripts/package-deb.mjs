#!/usr/bin/env node
// Builds the Debian package from this clone's build, with dpkg-deb and
// nothing fetched: `npm run package:deb` (which builds first), or
// `node scripts/package-deb.mjs [--out DIR]`. Prints the .deb's path.
//
//   /usr/lib/portico/                    what `npm pack` ships (package.json "files": bin, dist/src,
//                                        python, README.md), and node_modules/ with the production
//                                        dependencies, copied from this clone's
//   /usr/bin/portico                     -> ../lib/portico/bin/portico.js
//   /lib/systemd/system/portico@.service, portico@.socket   (packaging/systemd/)
//   /usr/share/man/man1/portico.1.gz     scripts/man-page.mjs
//   /usr/share/bash-completion/completions/portico          scripts/bash-completion.mjs
//   /usr/share/doc/portico/              README, docs, changelogs, copyright, examples/mysite.toml
//   /usr/share/lintian/overrides/portico packaging/lintian-overrides: what lintian flags and is meant
//   /etc/portico/                        one NAME.toml per site, written by the operator
//
// test/integration/distribution-deb.test.ts builds it, runs lintian on it,
// installs it, serves through it and purges it.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { formatBashCompletion } from './bash-completion.mjs';
import { formatManPage } from './man-page.mjs';
import { PACKAGE } from './option-rows.mjs';

const REPO = realpathSync(fileURLToPath(new URL('..', import.meta.url)));
const PREFIX = 'usr/lib/portico';
/** Debian revision 1 of the upstream version. */
const VERSION = `${PACKAGE.version}-1`;

const CONTROL = `Package: portico
Version: ${VERSION}
Architecture: all
Maintainer: @MAINTAINER@
Installed-Size: @SIZE@
Depends: nodejs (>= 20), python3 (>= 3.8)
Section: httpd
Priority: optional
Description: application server for Python WSGI and ASGI applications
 portico serves Python web applications: a Node.js front speaks HTTP/1.1
 (or HTTPS, or the uwsgi protocol), serves static files and CGI scripts,
 and supervises persistent Python worker processes that run any WSGI
 application (Django, Flask, Pyramid...) and any ASGI 3 application
 (FastAPI, Starlette, Django Channels), WebSockets included.
 .
 The workers use the standard library only and run in the interpreter
 chosen per site, a virtualenv's or /usr/bin/python3. A site is one file,
 /etc/portico/NAME.toml, served by the unit portico@NAME.service (or
 socket-activated by portico@NAME.socket).
`;

// The units' state follows the package (dh_installsystemd's snippets, in short): nothing is
// enabled for the operator, since no site exists before /etc/portico/NAME.toml does.
// Workers run as www-data, who cannot write the runtime's __pycache__: compile it now, for
// Debian's python3 (python/portico_worker.py otherwise caches it at a worker's first start).
const POSTINST = `#!/bin/sh
set -e
if [ "$1" = configure ] && command -v python3 >/dev/null 2>&1; then
  python3 -m compileall -q /${PREFIX}/python >/dev/null 2>&1 || true
fi
if [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null || true
fi
`;
// A worker run as root (`portico` by hand, as root) writes __pycache__ beside the runtime's
// modules; dpkg knows nothing of those files, and would leave the directories behind.
const PRERM = `#!/bin/sh
set -e
find /${PREFIX}/python -depth -type d -name __pycache__ -exec rm -rf {} + 2>/dev/null || true
`;
const POSTRM = `#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null || true
fi
`;

/**
 * The licences the production modules come under, as DEP-5 stand-alone
 * paragraphs (Policy 12.5: the text itself, or a pointer into
 * /usr/share/common-licenses). A module under any other licence stops the
 * build, until its text is added here.
 */
const LICENSES = {
  MIT: `Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in
all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
THE SOFTWARE.`,
  ISC: `Permission to use, copy, modify, and/or distribute this software for any
purpose with or without fee is hereby granted, provided that the above
copyright notice and this permission notice appear in all copies.

THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR
IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.`,
  'BSD-3-Clause': `Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.
2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the
   documentation and/or other materials provided with the distribution.
3. Neither the name of the copyright holder nor the names of its contributors
   may be used to endorse or promote products derived from this software without
   specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND
ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED
WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.`,
  'Apache-2.0': `On Debian systems, the complete text of the Apache License, Version 2.0
can be found in /usr/share/common-licenses/Apache-2.0.`,
};

/**
 * In a module's shipped tree, what its own `files` list or .npmignore ought to
 * have left out, at the module's top level: dotfiles (.npmignore, .gitattributes,
 * .github/, .husky/: lintian's package-contains-npm-ignore-file and
 * -vcs-control-file), test suites, benchmarks, examples, and HTML pages of a
 * documentation site (pino's index.html loads scripts from CDNs: privacy-breach-generic).
 * No module's code loads any of them.
 */
const UNSHIPPED = /(?:^|\/)node_modules\/(?:@[^/]+\/)?[^/]+\/(?:\.[^/]*|tests?|benchmarks?|examples?|[^/]*\.html)$/;

/** Debian's copyright file (copyright-format 1.0): portico's, then one paragraph per module. */
function copyrightFile(years, modules) {
  const used = new Set([PACKAGE.license]);
  const paragraphs = [
    `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: portico`,
    `Files: *\nCopyright: ${years} the portico authors\nLicense: ${PACKAGE.license}`,
  ];
  for (const { path, license, holders } of modules) {
    if (!(license in LICENSES)) {
      throw new Error(`package-deb: node_modules/${path} is under ${license}: add its text to LICENSES in scripts/package-deb.mjs`);
    }
    used.add(license);
    paragraphs.push(`Files: ${PREFIX}/node_modules/${path}/*\nCopyright: ${holders.join('\n ')}\nLicense: ${license}`);
  }
  for (const license of [...used].sort()) {
    paragraphs.push(`License: ${license}\n${LICENSES[license].replace(/^$/gm, '.').replace(/^/gm, ' ')}`);
  }
  return paragraphs.join('\n\n') + '\n';
}

/** A module's SPDX licence and its copyright lines, from its package.json and licence file; path is its place under node_modules/. */
function moduleLicense(dir, path) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const holders = [];
  for (const file of readdirSync(dir).filter((name) => /^(licen[cs]e|copying)/i.test(name))) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      // "Copyright (c) 2014 Name", not the licence text's "copyright notice" nor Apache's "Copyright [yyyy]" template.
      if (/^\s*Copyright\b(?! (?:notice|license|License))/.test(line) && !line.includes('[yyyy]')) {
        holders.push(line.trim().replace(/^Copyright\s+/, ''));
      }
    }
  }
  const author = typeof manifest.author === 'string' ? manifest.author : manifest.author?.name;
  if (holders.length === 0) holders.push(author ?? `the authors of ${manifest.name}`);
  return { path, license: manifest.license, holders };
}

function npm(args) {
  return execFileSync('npm', args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
}

function git(args) {
  try {
    return execFileSync('git', args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/**
 * Who answers for the package (Policy 5.6.2: a name and a working address):
 * DEBFULLNAME and DEBEMAIL, as dch reads them, else the author of the commit
 * built, as the build's date is that commit's.
 */
function maintainer() {
  const { DEBFULLNAME, DEBEMAIL } = process.env;
  if (DEBEMAIL?.includes('<')) return DEBEMAIL;
  const [name, email] = git(['log', '-1', '--format=%an%n%ae']).split('\n');
  const address = DEBEMAIL || email;
  if (!address) throw new Error('package-deb: no maintainer address; set DEBEMAIL (and DEBFULLNAME), or build from a git clone');
  return `${DEBFULLNAME || name || 'portico maintainers'} <${address}>`;
}

/** The date builds agree on: SOURCE_DATE_EPOCH, else the last commit's, else now; dpkg-deb clamps file times to it. */
function sourceDateEpoch() {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  return Number(git(['log', '-1', '--format=%ct'])) || Math.floor(Date.now() / 1000);
}

/** The copyright years: from the first commit's to the build's. */
function copyrightYears(epoch) {
  const last = new Date(epoch * 1000).getUTCFullYear();
  const first = Number(git(['log', '--max-parents=0', '--format=%ad', '--date=format-local:%Y']).split('\n').sort()[0]) || last;
  return first < last ? `${first}-${last}` : String(last);
}

function write(root, path, content, mode = 0o644) {
  const target = join(root, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
  chmodSync(target, mode);
}

/** Exactly what `npm pack` would ship, so that the .deb and the tarball never differ. */
function copyPackedFiles(root) {
  const [packed] = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts', '--loglevel=error']));
  for (const { path } of packed.files) cpSync(join(REPO, path), join(root, PREFIX, path));
  return packed.files.length;
}

/**
 * The production dependencies as `npm ls --omit=dev` finds them in this
 * clone: copied, not fetched, less what UNSHIPPED names. Type declarations
 * (@types/* and what only they depend on, undici-types) are left out: no code
 * loads them. Returns each module's licence, for the copyright file.
 */
function copyProductionModules(root) {
  const tree = JSON.parse(npm(['ls', '--omit=dev', '--all', '--json', '--long']));
  const dirs = new Set();
  const walk = (node) => {
    for (const [name, dependency] of Object.entries(node.dependencies ?? {})) {
      // An optional peer not installed (ws's bufferutil) has no path.
      if (name.startsWith('@types/') || !dependency.path) continue;
      dirs.add(dependency.path);
      walk(dependency);
    }
  };
  walk(tree);
  const own = join(REPO, 'node_modules') + sep;
  const modules = [];
  for (const dir of [...dirs].sort()) {
    if (!dir.startsWith(own)) continue;
    const name = dir.slice(own.length);
    cpSync(dir, join(root, PREFIX, 'node_modules', name), {
      recursive: true,
      dereference: true,
      filter: (source) => !UNSHIPPED.test(relative(REPO, source).split(sep).join('/')),
    });
    modules.push(moduleLicense(dir, name.split(sep).join('/')));
  }
  return modules;
}

/** 0755 for directories and anything executable, 0644 for the rest; no setuid, no group or world write. */
function normaliseModes(path) {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return 0;
  if (stat.isDirectory()) {
    chmodSync(path, 0o755);
    let kib = 1;
    for (const name of readdirSync(path)) kib += normaliseModes(join(path, name));
    return kib;
  }
  chmodSync(path, stat.mode & 0o111 ? 0o755 : 0o644);
  return Math.ceil(stat.size / 1024);
}

/** Every regular file outside DEBIAN/ and /etc, with its MD5, as dpkg --verify and debsums read them. */
function md5sums(root, dir = root) {
  const lines = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const rel = relative(root, path);
    if (rel === 'DEBIAN' || rel === 'etc') continue;
    const stat = lstatSync(path);
    if (stat.isDirectory()) lines.push(...md5sums(root, path));
    else if (stat.isFile()) lines.push(`${createHash('md5').update(readFileSync(path)).digest('hex')}  ${rel}`);
  }
  return lines;
}

function debianChangelog(epoch, maintainer) {
  const date = new Date(epoch * 1000).toUTCString().replace('GMT', '+0000');
  return `portico (${VERSION}) unstable; urgency=medium\n\n  * Built from the upstream tree by scripts/package-deb.mjs; see changelog.gz.\n\n -- ${maintainer}  ${date}\n`;
}

export function buildDeb(outDir) {
  if (!lstatSync(join(REPO, 'dist', 'src', 'cli.js'), { throwIfNoEntry: false })) {
    throw new Error('package-deb: no build in dist/; run `npm run package:deb`, which builds first');
  }
  const epoch = sourceDateEpoch();
  const stage = mkdtempSync(join(tmpdir(), 'portico-deb-'));
  try {
    const root = join(stage, 'root');
    mkdirSync(join(root, PREFIX), { recursive: true });
    copyPackedFiles(root);
    const modules = copyProductionModules(root);
    const packager = maintainer();
    mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
    symlinkSync(`../lib/portico/bin/portico.js`, join(root, 'usr', 'bin', 'portico'));

    for (const unit of ['portico@.service', 'portico@.socket']) {
      write(root, `lib/systemd/system/${unit}`, readFileSync(join(REPO, 'packaging', 'systemd', unit)));
    }
    const date = new Date(epoch * 1000).toISOString().slice(0, 10);
    // gzipSync writes no name and a zero time: the same page gives the same bytes.
    write(root, 'usr/share/man/man1/portico.1.gz', gzipSync(formatManPage(date), { level: 9 }));
    write(root, 'usr/share/bash-completion/completions/portico', formatBashCompletion());

    const doc = 'usr/share/doc/portico';
    write(root, `${doc}/copyright`, copyrightFile(copyrightYears(epoch), modules));
    write(root, `${doc}/changelog.gz`, gzipSync(readFileSync(join(REPO, 'CHANGELOG.md')), { level: 9 }));
    write(root, `${doc}/changelog.Debian.gz`, gzipSync(debianChangelog(epoch, packager), { level: 9 }));
    write(root, `${doc}/README.md`, readFileSync(join(REPO, 'README.md')));
    for (const page of ['index.md', 'deploy.md', 'protocol.md', 'benchmarks.md']) {
      write(root, `${doc}/docs/${page}`, readFileSync(join(REPO, 'docs', page)));
    }
    write(root, `${doc}/examples/mysite.toml`, readFileSync(join(REPO, 'packaging', 'mysite.toml')));
    write(root, 'usr/share/lintian/overrides/portico', readFileSync(join(REPO, 'packaging', 'lintian-overrides')));
    mkdirSync(join(root, 'etc', 'portico'), { recursive: true });

    const kib = normaliseModes(root);
    write(root, 'DEBIAN/control', CONTROL.replace('@SIZE@', String(kib)).replace('@MAINTAINER@', packager));
    write(root, 'DEBIAN/md5sums', md5sums(root).join('\n') + '\n');
    write(root, 'DEBIAN/postinst', POSTINST, 0o755);
    write(root, 'DEBIAN/prerm', PRERM, 0o755);
    write(root, 'DEBIAN/postrm', POSTRM, 0o755);
    chmodSync(join(root, 'DEBIAN'), 0o755);

    mkdirSync(outDir, { recursive: true });
    const deb = join(outDir, `portico_${VERSION}_all.deb`);
    execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z9', '--build', root, deb], {
      env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return deb;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf('--out');
  const outDir = at === -1 ? join(REPO, 'dist') : process.argv[at + 1];
  if (outDir === undefined) throw new Error('package-deb: --out needs a directory');
  process.stdout.write(`${buildDeb(outDir)}\n`);
}
