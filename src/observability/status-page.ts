/**
 * The control listener's /status page: one HTML document with its CSS, its
 * script and its charts inline (nothing is fetched from anywhere but
 * status.json beside it, which the Content-Security-Policy of the response
 * enforces). It draws the snapshot it was served with, then polls
 * status.json every second and redraws.
 */
import type { StatusSnapshot } from './status-snapshot.js';

/** For the response: only inline code and status.json on the same origin. */
export const STATUS_PAGE_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** How often the page asks for status.json again. */
const POLL_MS = 1000;

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
h1 { font-size: 1.3em; margin: 0 0 .3em; }
h2 { font-size: 1.1em; margin: 1.5em 0 .3em; }
.meta { color: #555; }
.badge { display: inline-block; padding: 0 .5em; border-radius: .3em; color: #fff; font-weight: 600; }
.ready { background: #2a7d2a; } .not-ready { background: #b03030; } .stale { color: #b03030; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { padding: .15em .7em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.summary span { margin-right: 1.2em; }
svg { background: #fff; border: 1px solid #ddd; }
.p50 { stroke: #2a6fb0; } .p99 { stroke: #d0782a; }
.legend .p50 { color: #2a6fb0; } .legend .p99 { color: #d0782a; }
`;

/** Runs in the browser: draws a snapshot into #mounts, then polls. */
const SCRIPT = `
'use strict';
const POLL_MS = ${POLL_MS};
const SVG = 'http://www.w3.org/2000/svg';
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  for (const child of children) node.append(child);
  return node;
}
function bytes(n) {
  if (n === null) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return n.toFixed(i === 0 ? 0 : 1) + ' ' + units[i];
}
function age(s) {
  if (s < 120) return s + ' s';
  if (s < 7200) return Math.round(s / 60) + ' min';
  return (s / 3600).toFixed(1) + ' h';
}
function chart(seconds) {
  const w = 300, h = 80, pad = 2;
  const top = Math.max(1, ...seconds.map((s) => s.p99));
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('width', w); svg.setAttribute('height', h); svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
  svg.setAttribute('role', 'img'); svg.setAttribute('aria-label', 'p50 and p99 latency over the last minute');
  for (const key of ['p99', 'p50']) {
    const points = seconds.map((s, i) => {
      const x = pad + (i * (w - 2 * pad)) / Math.max(1, seconds.length - 1);
      const y = h - pad - (s[key] / top) * (h - 2 * pad);
      return x.toFixed(1) + ',' + y.toFixed(1);
    });
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', points.join(' ')); line.setAttribute('fill', 'none');
    line.setAttribute('stroke-width', '1.5'); line.setAttribute('class', key);
    svg.append(line);
  }
  const label = document.createElementNS(SVG, 'text');
  label.setAttribute('x', 4); label.setAttribute('y', 12); label.setAttribute('font-size', 10);
  label.textContent = top.toFixed(top < 10 ? 2 : 0) + ' ms';
  svg.append(label);
  return svg;
}
function mountSection(m) {
  const section = el('section', { 'data-mount': m.mount });
  section.append(el('h2', {}, m.mount + ' (' + m.kind + ')'));
  const facts = [['requests', m.requests.total], ['rate', m.requests.rate.toFixed(1) + '/s'],
    ['p50', m.requests.p50Ms + ' ms'], ['p99', m.requests.p99Ms + ' ms']];
  if (m.target !== null) {
    const range = m.workersMin !== null && m.workersMin !== m.workersMax ? ' (' + m.workersMin + '..' + m.workersMax + ')' : '';
    facts.unshift(['workers', m.workers.length + ' of ' + m.target + range], ['generation', m.generation]);
  }
  if (m.queueDepth !== null) facts.push(['queue', m.queueDepth]);
  if (m.inflight !== null) facts.push(['in flight', m.inflight]);
  if (m.websockets !== null) facts.push(['WebSockets', m.websockets]);
  section.append(el('div', { class: 'summary' }, ...facts.map(([k, v]) => el('span', {}, k + ': ' + v))));
  section.append(chart(m.requests.lastMinute));
  section.append(el('div', { class: 'legend' }, el('span', { class: 'p50' }, '— p50 '), el('span', { class: 'p99' }, '— p99'), ' over the last minute'));
  if (m.target !== null) {
    const head = el('tr', {}, ...['pid', 'state', 'generation', 'served', 'in flight', 'RSS', 'age'].map((t) => el('th', {}, t)));
    const rows = m.workers.map((w) => el('tr', { 'data-pid': w.pid, 'data-state': w.state },
      el('td', {}, String(w.pid)), el('td', {}, w.state), el('td', {}, String(w.generation)), el('td', {}, String(w.served)),
      el('td', {}, String(w.inflight)), el('td', {}, bytes(w.rssBytes)), el('td', {}, age(w.ageSeconds))));
    section.append(el('table', { class: 'workers' }, el('thead', {}, head), el('tbody', {}, ...rows)));
    const last = m.lastExit;
    section.append(el('div', { class: 'last-exit' }, last === null ? 'No worker has exited.'
      : 'Last exit: worker ' + last.pid + ' ' + last.description + ' (' + last.reason + '), ' + age(last.secondsAgo) + ' ago.'));
  }
  return section;
}
function draw(s) {
  const badge = document.getElementById('ready');
  badge.textContent = s.ready ? 'ready' : 'not ready';
  badge.className = 'badge ' + (s.ready ? 'ready' : 'not-ready');
  badge.title = s.notReady.join('; ');
  document.getElementById('meta').textContent = 'pid ' + s.pid + ', up ' + age(s.uptimeSeconds) + ', updated ' + s.at +
    (s.notReady.length ? ' — ' + s.notReady.join('; ') : '');
  document.getElementById('mounts').replaceChildren(...s.mounts.map(mountSection));
  document.body.dataset.updated = s.at;
}
async function poll() {
  try {
    const response = await fetch('status.json', { cache: 'no-store' });
    draw(await response.json());
    document.getElementById('stale').textContent = '';
  } catch (error) {
    document.getElementById('stale').textContent = 'cannot reach the server: ' + error.message;
  }
  setTimeout(poll, POLL_MS);
}
draw(JSON.parse(document.getElementById('initial').textContent));
setTimeout(poll, POLL_MS);
`;

/** The page, drawing `snapshot` at once. */
export function renderStatusPage(snapshot: StatusSnapshot): string {
  // Inside <script>, '<' could end the element: JSON may spell it \\u003c.
  const initial = JSON.stringify(snapshot).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>portico status</title>
<style>${STYLE}</style>
</head>
<body>
<h1>portico <span id="ready" class="badge">…</span></h1>
<div id="meta" class="meta"></div>
<div id="stale" class="stale"></div>
<main id="mounts"></main>
<script type="application/json" id="initial">${initial}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
