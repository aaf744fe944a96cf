/**
 * What the live view and annotated snapshots draw over a frame: zones (tinted polygons), counting
 * lines (with an arrow on their 'in' side) and tracks (a box per track in a colour of its ID, with
 * "#id label score"), as one SVG the size of the frame for sharp to composite.
 */
import type { Point } from '../video/tracking/geometry';
import type { LineSpec } from '../video/tracking/lines';
import type { ZoneSpec } from '../video/tracking/zones';
import type { TrackedObject } from './types';

/** Saturated colours that stay apart from each other, from the zone and line colours, and from most scenes. */
export const TRACK_COLOURS = ['#ff2d55', '#00c7ff', '#ff9500', '#34c759', '#af52de', '#ff3bd4', '#00e0b0', '#b4ff00', '#8e7dff', '#ff7a45'];
export const ZONE_COLOUR = '#3d5bff';
export const LINE_COLOUR = '#ffe600';

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

export function trackColour(id: number): string {
  return TRACK_COLOURS[id % TRACK_COLOURS.length];
}

export interface OverlayGeometry {
  zones: readonly ZoneSpec[];
  lines: readonly LineSpec[];
  /** Scale of zone and line points: 1 for pixels, the frame's width and height for normalised coordinates. */
  scaleX: number;
  scaleY: number;
}

export function overlaySvg(width: number, height: number, tracks: readonly TrackedObject[], geometry: OverlayGeometry): string {
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 160));
  const font = Math.max(11, Math.round(Math.min(width, height) / 36));
  const pt = (p: Point) => `${(p[0] * geometry.scaleX).toFixed(1)},${(p[1] * geometry.scaleY).toFixed(1)}`;
  const parts: string[] = [];
  for (const zone of geometry.zones) {
    const points = zone.polygon.map(pt).join(' ');
    const [x, y] = pt(zone.polygon[0]).split(',');
    parts.push(
      `<polygon points="${points}" fill="${ZONE_COLOUR}" fill-opacity="0.18" stroke="${ZONE_COLOUR}" stroke-width="${stroke}"/>`,
      `<text x="${x}" y="${Number(y) + font}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="${ZONE_COLOUR}">${escapeXml(zone.id)}</text>`,
    );
  }
  for (const line of geometry.lines) {
    const a = [line.from[0] * geometry.scaleX, line.from[1] * geometry.scaleY];
    const b = [line.to[0] * geometry.scaleX, line.to[1] * geometry.scaleY];
    const length = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
    // The 'in' side is the right of from -> to on the image (y down): the normal (-dy, dx) points into it.
    const nx = -(b[1] - a[1]) / length;
    const ny = (b[0] - a[0]) / length;
    const mx = (a[0] + b[0]) / 2;
    const my = (a[1] + b[1]) / 2;
    const arrow = font * 1.5;
    parts.push(
      `<line x1="${a[0].toFixed(1)}" y1="${a[1].toFixed(1)}" x2="${b[0].toFixed(1)}" y2="${b[1].toFixed(1)}" stroke="${LINE_COLOUR}" stroke-width="${stroke + 1}"/>`,
      `<line x1="${mx.toFixed(1)}" y1="${my.toFixed(1)}" x2="${(mx + nx * arrow).toFixed(1)}" y2="${(my + ny * arrow).toFixed(1)}" stroke="${LINE_COLOUR}" stroke-width="${stroke}"/>`,
      `<text x="${(a[0] + 4).toFixed(1)}" y="${(a[1] - 4).toFixed(1)}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="${LINE_COLOUR}">${escapeXml(line.id)}</text>`,
    );
  }
  for (const t of tracks) {
    const colour = trackColour(t.id);
    const { x1, y1, x2, y2 } = t.box;
    const caption = escapeXml(`#${t.id} ${t.label} ${t.score.toFixed(2)}`);
    const captionWidth = Math.round(caption.length * font * 0.6) + 6;
    const top = y1 >= font + 4 ? y1 - font - 4 : y1;
    parts.push(
      `<rect x="${x1.toFixed(1)}" y="${y1.toFixed(1)}" width="${(x2 - x1).toFixed(1)}" height="${(y2 - y1).toFixed(1)}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>`,
      `<rect x="${x1.toFixed(1)}" y="${top.toFixed(1)}" width="${captionWidth}" height="${font + 4}" fill="${colour}"/>`,
      `<text x="${(x1 + 3).toFixed(1)}" y="${(top + font).toFixed(1)}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="#000000">${caption}</text>`,
    );
  }
  return `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}
