/**
 * Exports of the whole diagram (not just what is on screen): SVG drawn from
 * the computed layout, PNG rasterised from that SVG, and the raw discovery.
 */
import { download } from './dom.js';
import { esc } from './html.js';
import { HEAD_H, type Layout, ROW_H } from './layout.js';

const cssVar = (name: string): string =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/** Shortens text to fit `px` at ~6.6 px per character (12 px sans): SVG has no ellipsis. */
const fit = (s: string, px: number): string => {
  const max = Math.floor(px / 6.6);
  return s.length > max ? `${s.slice(0, Math.max(1, max - 1))}…` : s;
};

export function diagramSvg(l: Layout, selected: ReadonlySet<string>): string {
  const c = {
    bg: cssVar('--bg') || '#fff',
    card: cssVar('--card') || '#fff',
    border: cssVar('--border') || '#ccc',
    text: cssVar('--text') || '#222',
    muted: cssVar('--muted') || '#666',
    wire: cssVar('--wire') || '#888',
    accent: cssVar('--accent') || '#198c7a',
    sel: cssVar('--sel') || '#e8590c',
  };
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${l.width}" height="${l.height}" viewBox="0 0 ${l.width} ${l.height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="${c.bg}"/>`,
  );
  for (const p of l.paths) {
    const sel = p.keys.every((k) => selected.has(k));
    out.push(
      `<path d="${p.d}" fill="none" stroke="${sel ? c.sel : p.kind === 'trunk' ? c.accent : c.wire}" stroke-width="${sel ? 3 : p.kind === 'trunk' ? 2.5 : 1.5}"/>`,
    );
  }
  for (const s of l.sections) {
    out.push(
      `<text x="${s.x + 8}" y="${s.y + 14}" fill="${c.text}" font-weight="bold">${esc(fit(`${s.seg.label} — ${s.shown} namespaces`, s.w - 16))}</text>`,
    );
  }
  for (const card of l.cards) {
    out.push(
      `<g><rect x="${card.x}" y="${card.y}" width="${card.w}" height="${card.h}" rx="6" fill="${c.card}" stroke="${card.hub ? c.accent : c.border}" stroke-width="${card.hub ? 2 : 1}"/>`,
      `<text x="${card.x + 10}" y="${card.y + 17}" fill="${c.text}" font-weight="bold">${esc(fit(card.info.title, card.w - 20))}</text>`,
      `<text x="${card.x + 10}" y="${card.y + 33}" fill="${c.muted}" font-size="10.5">${esc(fit(card.info.subtitle, card.w - 20))}</text>`,
    );
    card.rows.forEach((r, i) => {
      const y = card.y + HEAD_H + i * ROW_H + 14;
      const x = card.x + (r.indent ? 22 : 10);
      const sel = selected.has(r.key);
      out.push(
        `<text x="${x}" y="${y}" fill="${sel ? c.sel : c.text}">${esc(fit(r.name, 90))}</text>`,
        `<text x="${card.x + 112}" y="${y}" fill="${c.muted}" font-size="10.5">${esc(fit(`${r.kind === 'fold' ? '' : r.kind} ${r.addr}`.trim(), card.w - 120))}</text>`,
      );
    });
    out.push('</g>');
  }
  out.push('</svg>');
  return out.join('');
}

export function exportSvg(l: Layout, selected: ReadonlySet<string>): void {
  download('wirescope-wiring.svg', new Blob([diagramSvg(l, selected)], { type: 'image/svg+xml' }));
}

export async function exportPng(l: Layout, selected: ReadonlySet<string>): Promise<void> {
  const svg = diagramSvg(l, selected);
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('the diagram could not be rasterised'));
      img.src = url;
    });
    // Browsers cap canvas sizes (~16k px, 268 Mpx): scale huge diagrams down to fit.
    const scale = Math.min(2, 16000 / l.width, 16000 / l.height, Math.sqrt(200e6 / (l.width * l.height)));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.floor(l.width * scale));
    canvas.height = Math.max(1, Math.floor(l.height * scale));
    const ctx = canvas.getContext('2d')!;
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0);
    const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, 'image/png'));
    if (!blob) throw new Error('the PNG could not be encoded');
    download('wirescope-wiring.png', blob);
  } finally {
    URL.revokeObjectURL(url);
  }
}

export function exportJson(text: string): void {
  download('wirescope-discovery.json', new Blob([text], { type: 'application/json' }));
}
