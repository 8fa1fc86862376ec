// 1 GiB up and 1 GiB down through a server with curl, sampling the memory of
// the server's whole process tree every 100 ms: does anything buffer a body?
import { spawn } from 'node:child_process';
import { closeSync, openSync, ftruncateSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sampleWhile, treeMemory } from './memory.mjs';
import { freePort } from './process-group.mjs';
import { peers } from './peers/index.mjs';

function curl(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out: out.trim() }));
  });
}

async function transfer(server, label, args) {
  const sampler = sampleWhile(() => server.pids(), 100);
  const started = process.hrtime.bigint();
  const { code, out } = await curl(args);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peak = sampler.stop();
  return { label, curlExit: code, output: out.slice(0, 300), seconds, peak, command: ['curl', ...args].join(' ') };
}

export async function streamTest({ peerId, workers, bytes, work, log }) {
  const ctx = {
    port: await freePort(),
    workers,
    workload: { id: 'stream', kind: 'wsgi', path: '/download?bytes=13' },
    app: work.apps.stream,
    work: work.paths,
  };
  const peer = peers[peerId];
  const file = join(work.paths.root, 'upload.bin');
  // A sparse file: curl reads zeros from it without touching the disk.
  const fd = openSync(file, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  const server = await peer.start(ctx);
  try {
    const idle = treeMemory(server.pids());
    const base = `http://127.0.0.1:${ctx.port}`;
    const upload = await transfer(server, 'upload', ['-sS', '-X', 'POST', '-H', 'Content-Type: application/octet-stream', '-T', file, '-w', ' %{http_code}', `${base}/upload`]);
    upload.ok = upload.curlExit === 0 && upload.output === `${bytes} 200`;
    log(`  stream ${peerId} upload: ${upload.output} in ${upload.seconds.toFixed(1)} s, peak RSS ${(upload.peak.rss / 2 ** 20).toFixed(0)} MiB`);
    const download = await transfer(server, 'download', ['-sS', '-o', '/dev/null', '-w', '%{size_download} %{http_code}', `${base}/download?bytes=${bytes}`]);
    download.ok = download.curlExit === 0 && download.output === `${bytes} 200`;
    log(`  stream ${peerId} download: ${download.output} in ${download.seconds.toFixed(1)} s, peak RSS ${(download.peak.rss / 2 ** 20).toFixed(0)} MiB`);
    return { peer: peerId, label: peer.label, workers, bytes, commands: server.commands, idle, upload, download };
  } finally {
    await server.stop();
    rmSync(file, { force: true });
  }
}
