// A horizontal bar chart, one panel per (workers, connections) cell, written
// by hand: no dependencies, and it renders on GitHub as an <img>.

const WIDTH = 760;
const LABEL_WIDTH = 230;
const VALUE_WIDTH = 170;
const ROW = 20;
const BAR = 14;
const PANEL_TITLE = 24;
const PORTICO = '#d9480f';
const PEER = '#868e96';

function escapeXml(text) {
  return String(text).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);
}

export function formatNumber(value) {
  if (value >= 1000) return Math.round(value).toLocaleString('en-US');
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/**
 * panels: [{ title, bars: [{ label, value, relative, highlight, note }] }]
 * unit: shown after each value.
 */
export function barChart({ title, unit, panels }) {
  const parts = [];
  let y = 34;
  const barSpace = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 20;
  for (const panel of panels) {
    const max = Math.max(...panel.bars.map((b) => b.value ?? 0), 1e-9);
    parts.push(`<text x="10" y="${y + 15}" class="panel">${escapeXml(panel.title)}</text>`);
    y += PANEL_TITLE;
    for (const bar of panel.bars) {
      const labelY = y + BAR - 3;
      parts.push(`<text x="${LABEL_WIDTH - 8}" y="${labelY}" class="label" text-anchor="end">${escapeXml(bar.label)}</text>`);
      if (bar.value === undefined) {
        parts.push(`<text x="${LABEL_WIDTH}" y="${labelY}" class="na">${escapeXml(bar.note ?? 'not available')}</text>`);
      } else {
        const width = Math.max(1, (bar.value / max) * barSpace);
        const fill = bar.highlight ? PORTICO : PEER;
        parts.push(`<rect x="${LABEL_WIDTH}" y="${y}" width="${width.toFixed(1)}" height="${BAR}" fill="${fill}"/>`);
        const relative = bar.relative !== undefined && !bar.highlight ? ` (${bar.relative.toFixed(2)}× portico)` : '';
        parts.push(`<text x="${(LABEL_WIDTH + width + 6).toFixed(1)}" y="${labelY}" class="value">${escapeXml(`${formatNumber(bar.value)} ${unit}${relative}`)}</text>`);
      }
      y += ROW;
    }
    y += 10;
  }
  const height = y + 6;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">
<style>.title{font-size:15px;font-weight:600}.panel{font-size:12px;font-weight:600;fill:#343a40}.label{fill:#212529}.value{fill:#212529}.na{fill:#868e96;font-style:italic}</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="10" y="20" class="title">${escapeXml(title)}</text>
${parts.join('\n')}
</svg>
`;
}
