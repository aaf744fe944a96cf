/**
 * The quantization report as one self-contained HTML page: inline CSS, inline SVG, a few lines
 * of inline script (filter and sort), no network. Every value from the model (tensor and node
 * names) is escaped.
 */
import type { QuantizationReportData, ReportTensor } from './data';
import type { RangeMethod } from '../quantize/statistics';
import { PSEUDO_LABEL_THRESHOLD, UNCERTAIN_THRESHOLD } from '../quantize/agreement';

const METHOD_COLOURS: Record<RangeMethod, string> = { minmax: '#2b7bb9', percentile: '#2e9e5b', entropy: '#a45ec2' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function num(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (value === Number.POSITIVE_INFINITY) return '∞';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  return abs >= 1e5 || abs < 1e-3 ? value.toExponential(digits - 1) : String(Number(value.toPrecision(digits)));
}

const pct = (value: number) => `${(value * 100).toFixed(1)} %`;

function anchor(name: string): string {
  return `t-${name.replace(/[^A-Za-z0-9_-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)}`;
}

/** The histogram on a log scale, the chosen range as a band, every method's range as ticks. */
export function histogramSvg(t: ReportTensor, width = 360, height = 130): string {
  const left = 6;
  const right = width - 6;
  const top = 16;
  const base = height - 22;
  const { start, binWidth, counts } = t.histogram;
  const end = start + binWidth * counts.length;
  const lo = Math.min(start, t.range.min, t.observed.min, 0);
  const hi = Math.max(end, t.range.max, t.observed.max, 0);
  const span = hi - lo || 1;
  const x = (v: number) => left + ((v - lo) / span) * (right - left);
  const peak = Math.log10(1 + Math.max(1, ...counts));
  let bars = '';
  counts.forEach((c, i) => {
    if (c <= 0) return;
    const h = (Math.log10(1 + c) / peak) * (base - top);
    const x0 = x(start + i * binWidth);
    const w = Math.max(0.6, x(start + (i + 1) * binWidth) - x0);
    bars += `M${x0.toFixed(1)} ${base}v${(-h).toFixed(1)}h${w.toFixed(1)}v${h.toFixed(1)}z`;
  });
  const band = `<rect x="${x(t.range.min).toFixed(1)}" y="${top - 4}" width="${Math.max(1, x(t.range.max) - x(t.range.min)).toFixed(1)}" height="${base - top + 4}" fill="#e4572e" fill-opacity="0.08"/>`;
  const chosen = [t.range.min, t.range.max]
    .map((v) => `<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${top - 4}" y2="${base}" stroke="#e4572e" stroke-width="1.6"/>`)
    .join('');
  const observed = [t.observed.min, t.observed.max]
    .map((v) => `<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${top}" y2="${base}" stroke="#777" stroke-dasharray="3 2"/>`)
    .join('');
  const ticks = t.candidates
    .map((c, i) =>
      [c.range.min, c.range.max]
        .map((v) => `<path d="M${x(v).toFixed(1)} ${top - 10 + i * 3}l-3 -4h6z" fill="${METHOD_COLOURS[c.method]}"><title>${c.method}: ${num(v)}</title></path>`)
        .join(''),
    )
    .join('');
  // The zero tick is labelled only where its label cannot run into the end labels.
  const zero = lo < 0 && hi > 0 && x(0) - left > 40 && right - x(0) > 40 ? `<line x1="${x(0).toFixed(1)}" x2="${x(0).toFixed(1)}" y1="${base}" y2="${base + 4}" stroke="#333"/><text x="${x(0).toFixed(1)}" y="${height - 4}" text-anchor="middle">0</text>` : '';
  return (
    `<svg class="hist" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="histogram of ${escapeHtml(t.name)}">` +
    band +
    `<path d="${bars}" fill="#4a5a70"/>` +
    observed +
    chosen +
    ticks +
    `<line x1="${left}" x2="${right}" y1="${base}" y2="${base}" stroke="#333"/>` +
    zero +
    `<text x="${left}" y="${height - 4}">${num(lo)}</text><text x="${right}" y="${height - 4}" text-anchor="end">${num(hi)}</text>` +
    `</svg>`
  );
}

function sqnrClass(db: number | null): string {
  if (db === null) return '';
  return db < 15 ? 'bad' : db < 25 ? 'warn' : 'good';
}

function card(label: string, value: string, detail = '', cls = ''): string {
  return `<div class="card ${cls}"><div class="label">${label}</div><div class="value">${value}</div><div class="detail">${detail}</div></div>`;
}

function table(headers: string[], rows: string[][], cls = ''): string {
  return `<table class="${cls}"><thead><tr>${headers.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const CSS = `
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d232b;background:#f4f6f9}
header{background:#1f2d3d;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}header .sub{opacity:.8;font-size:13px}
main{padding:18px 28px;max-width:1400px}section{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:14px 18px;margin:0 0 18px}
h2{font-size:17px;margin:0 0 10px}h3{font-size:14px;margin:14px 0 6px}p.note{color:#566;margin:4px 0 10px;font-size:13px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px}
.card{border:1px solid #dde3ea;border-radius:6px;padding:10px 12px;background:#fbfcfd}.card .label{font-size:12px;color:#667;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:22px;font-weight:600;margin:2px 0}.card .detail{font-size:12px;color:#556}.card.pass .value{color:#23824a}.card.fail .value{color:#c0392b}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #e6eaef;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f3f7;font-weight:600;position:sticky;top:0}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
.bar{display:inline-block;height:10px;background:#4a90c2;vertical-align:middle;border-radius:2px}
.bad{color:#c0392b;font-weight:600}.warn{color:#c77c0e;font-weight:600}.good{color:#23824a}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:11px;font-weight:600}.badge.int8{background:#e3f1e8;color:#23824a}.badge.float{background:#fdeee2;color:#b85c12}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:10px}
.tcard{border:1px solid #dde3ea;border-radius:6px;padding:8px 10px;background:#fff}.tcard .name{font-weight:600}.tcard .meta{font-size:12px;color:#556;margin:2px 0 4px}
svg.hist text{font-size:10px;fill:#445}.legend span{margin-right:14px;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
input.filter{padding:5px 8px;border:1px solid #c8d0da;border-radius:4px;width:320px;margin:0 8px 10px 0}button{padding:5px 10px;border:1px solid #c8d0da;border-radius:4px;background:#fff;cursor:pointer}
.scroll{max-height:520px;overflow:auto;border:1px solid #e6eaef}.warnings li{color:#8a5a00}
`;

const SCRIPT = `
(function(){
  var box=document.getElementById('filter');
  function apply(){var q=box.value.toLowerCase();document.querySelectorAll('[data-tensor]').forEach(function(el){el.style.display=el.getAttribute('data-tensor').toLowerCase().indexOf(q)<0?'none':'';});}
  box.addEventListener('input',apply);
  var asc=true;document.getElementById('sort-sqnr').addEventListener('click',function(){
    var body=document.querySelector('#layers tbody');var rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){var x=parseFloat(a.getAttribute('data-sqnr')),y=parseFloat(b.getAttribute('data-sqnr'));return asc?x-y:y-x;});
    rows.forEach(function(r){body.appendChild(r);});asc=!asc;});
  document.getElementById('sort-graph').addEventListener('click',function(){
    var body=document.querySelector('#layers tbody');var rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){return a.getAttribute('data-index')-b.getAttribute('data-index');});rows.forEach(function(r){body.appendChild(r);});});
})();
`;

export function renderReportHtml(data: QuantizationReportData): string {
  const c = data.check;
  const keptCount = data.keptFloat.length;
  const cards = [
    card('INT8 multiply-accumulates', pct(data.macs.int8Fraction), `${num(data.macs.int8 / 1e6)} of ${num(data.macs.total / 1e6)} M per frame`),
    card(
      'Estimated mAP drop',
      num(c.estimatedDrop, 2),
      `${c.maxDrop === null ? 'search off (every activation in INT8)' : `${c.passed ? 'within' : 'NOT within'} max ${c.maxDrop}`}${c.estimatedDropInterval ? ` · 90 % interval ${num(c.estimatedDropInterval[0], 3)}-${num(c.estimatedDropInterval[1], 3)}` : ''}`,
      c.maxDrop === null ? '' : c.passed ? 'pass' : 'fail',
    ),
    card('Agreement AP50 with FP32', num(c.chosen, 4), `all INT8 ${num(c.allInt8, 4)} · FP32 shifted 1 px ${num(c.floor, 4)} · ${c.heldBackFrames} held-back frames`),
    card('Kept in float by the search', String(keptCount), `of ${data.tensors.length} activations; ${data.floatNodes.length} head/ignored nodes float`),
    card('Calibration', `${data.calibration.frames} frames`, `${num(data.calibration.seconds)} s · method ${data.method} · ${data.activationMode} · INT${data.weightBits} weights per channel`),
  ];
  if (data.evaluation) {
    const e = data.evaluation;
    cards.push(card('mAP@[.5:.95] FP32 → INT8', `${num(e.fp32.mAP, 3)} → ${num(e.int8.mAP, 3)}`, `${((e.int8.mAP - e.fp32.mAP) * 100).toFixed(1)} points on ${e.images} labelled images`));
  }
  if (data.latency) {
    cards.push(card('Latency INT8 / FP32', `${data.latency.ratio.toFixed(2)}×`, `${num(data.latency.int8Ms)} ms vs ${num(data.latency.fp32Ms)} ms (medians, ${data.latency.rounds} interleaved rounds)`));
  }

  const evaluation = data.evaluation
    ? table(
        ['', 'mAP@[.5:.95]', 'AP50', 'AP75'],
        [
          ['FP32', num(data.evaluation.fp32.mAP, 4), num(data.evaluation.fp32.AP50, 4), num(data.evaluation.fp32.AP75, 4)],
          ['INT8', num(data.evaluation.int8.mAP, 4), num(data.evaluation.int8.AP50, 4), num(data.evaluation.int8.AP75, 4)],
          ['difference (points)', ...(['mAP', 'AP50', 'AP75'] as const).map((k) => ((data.evaluation!.int8[k] - data.evaluation!.fp32[k]) * 100).toFixed(2))],
        ],
      )
    : '<p class="note">No labelled images were given (<code>--eval-images DIR --eval-annotations FILE</code>): only the label-free check above.</p>';
  const latency = data.latency
    ? table(
        ['', 'median ms per inference', 'INT8 / FP32'],
        [
          ['FP32', num(data.latency.fp32Ms), ''],
          ['INT8', num(data.latency.int8Ms), `${data.latency.ratio.toFixed(2)}× (median of per-round ratios)`],
        ],
      ) + `<p class="note">ONNX Runtime CPU, one call in flight, ${data.latency.rounds} interleaved rounds of ${data.latency.callsPerRound} calls on the same frame. CPU: ${escapeHtml(data.cpu.model)}, ${escapeHtml(data.cpu.int8)}.</p>`
    : '';

  const trials = table(
    ['activations kept in float', 'agreement AP50', 'agreement mAP', 'estimated drop', 'passed'],
    c.trials.map((t) => [String(t.keptFloat), num(t.agreement, 4), num(t.agreementMap, 4), num(t.estimatedDrop, 3), t.passed ? '<span class="good">yes</span>' : '<span class="bad">no</span>']),
  );
  const topSensitivity = c.sensitivity.slice(0, 15);
  const maxSensitivity = Math.max(1e-30, ...topSensitivity.map((s) => s.error));
  const sensitivity =
    topSensitivity.length === 0
      ? '<p class="note">No sensitivity ranking: the all-INT8 model passed the check (or the search was off).</p>'
      : `<h3>Most sensitive activations (output error with only this one in INT8)</h3>` +
        table(
          ['rank', 'tensor', 'error', ''],
          topSensitivity.map((s, i) => [String(i + 1), `<a href="#${anchor(s.name)}"><code>${escapeHtml(s.name)}</code></a>`, num(s.error), `<span class="bar" style="width:${((s.error / maxSensitivity) * 240).toFixed(0)}px"></span>`]),
        );

  const keptRows = data.keptFloat.map((k) => [`<a href="#${anchor(k.name)}"><code>${escapeHtml(k.name)}</code></a>`, k.rank === null ? '–' : String(k.rank), num(k.error), escapeHtml(k.why)]);
  const kept =
    table(['tensor', 'sensitivity rank', 'output error alone in INT8', 'why'], keptRows.length ? keptRows : [['–', '', '', 'no activation was kept in float by the mixed-precision search']], 'kept-float') +
    `<h3>Nodes kept in float by the placement (${data.floatNodes.length})</h3><div class="scroll">` +
    table(['node', 'op', 'reason'], data.floatNodes.map((f) => [`<code>${escapeHtml(f.node)}</code>`, escapeHtml(f.opType), escapeHtml(f.reason)]), 'float-nodes') +
    '</div>';

  const maxSqnr = Math.max(1, ...data.tensors.map((t) => (t.sqnrDb !== null && Number.isFinite(t.sqnrDb) ? t.sqnrDb : 0)));
  const layerRows = data.tensors
    .map((t, i) => {
      const sq = t.sqnrDb;
      const sqText = `<span class="${sqnrClass(sq)}">${num(sq)}</span>`;
      const bar = sq !== null && Number.isFinite(sq) ? `<span class="bar" style="width:${((Math.max(0, sq) / maxSqnr) * 160).toFixed(0)}px"></span>` : '';
      const status = t.keptFloat ? '<span class="badge float">float</span>' : '<span class="badge int8">INT8</span>';
      return `<tr data-tensor="${escapeHtml(t.name)}" data-index="${i}" data-sqnr="${sq === null ? 'NaN' : Number.isFinite(sq) ? sq : 1e9}"><td class="num">${i + 1}</td><td><a href="#${anchor(t.name)}"><code>${escapeHtml(t.name)}</code></a></td><td><code>${escapeHtml(t.producer)}</code></td><td>${t.method}</td><td class="num">${sqText}</td><td>${bar}</td><td class="num">${num(t.cosine, 5)}</td><td>${status}</td></tr>`;
    })
    .join('');
  const layers = `<table id="layers"><thead><tr><th class="num">#</th><th>tensor</th><th>producer</th><th>method</th><th class="num">SQNR dB</th><th></th><th class="num">cosine</th><th></th></tr></thead><tbody>${layerRows}</tbody></table>`;

  const histograms = data.tensors
    .map((t) => {
      const rows = t.candidates
        .map((cand) => `<tr${cand.method === t.method ? ' class="chosen"' : ''}><td><i style="display:inline-block;width:8px;height:8px;background:${METHOD_COLOURS[cand.method]}"></i> ${cand.method}${cand.method === t.method ? ' <b>(chosen)</b>' : ''}</td><td class="num">${num(cand.range.min)} … ${num(cand.range.max)}</td><td class="num">${num(cand.error)}</td></tr>`)
        .join('');
      return (
        `<div class="tcard" id="${anchor(t.name)}" data-tensor="${escapeHtml(t.name)}"><div class="name"><code>${escapeHtml(t.name)}</code> ${t.keptFloat ? '<span class="badge float">kept float</span>' : '<span class="badge int8">INT8</span>'}</div>` +
        `<div class="meta">from <code>${escapeHtml(t.producer)}</code> · observed ${num(t.observed.min)} … ${num(t.observed.max)} · scale ${num(t.scale, 4)}, zero point ${t.zeroPoint}${t.alignedWith ? ` · shares the grid of <a href="#${anchor(t.alignedWith)}"><code>${escapeHtml(t.alignedWith)}</code></a>` : ''}${t.sharedGrid ? ` · one grid for ${t.sharedGrid.length} tensors joined by a Concat` : ''} · SQNR <span class="${sqnrClass(t.sqnrDb)}">${num(t.sqnrDb)} dB</span></div>` +
        histogramSvg(t) +
        `<table class="methods"><thead><tr><th>method</th><th class="num">range</th><th class="num">est. error</th></tr></thead><tbody>${rows}</tbody></table></div>`
      );
    })
    .join('');

  const warnings = data.warnings.length ? `<section><h2>Warnings</h2><ul class="warnings">${data.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul></section>` : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title><style>${CSS}</style></head>
<body><header><h1>${escapeHtml(data.title)}</h1><div class="sub">${escapeHtml(data.createdAt)} · opset ${data.opset.from} → ${data.opset.to} · ${data.tensors.length} activations, ${data.quantizedWeights} weights · CPU ${escapeHtml(data.cpu.model)} (${escapeHtml(data.cpu.int8)})</div></header>
<main>
<section><h2>Summary</h2><div class="cards">${cards.join('')}</div></section>
<section><h2>Accuracy and latency on labelled images</h2>${evaluation}${latency}</section>
<section><h2>Label-free check</h2><p class="note">INT8 detections scored against FP32's detections (confident FP32 boxes, score ≥ ${PSEUDO_LABEL_THRESHOLD}, as pseudo ground truth; boxes FP32 scored ${UNCERTAIN_THRESHOLD}–${PSEUDO_LABEL_THRESHOLD} are ignore regions, neither hits nor false alarms) on ${c.heldBackFrames} frames held back from calibration${c.heldBackShared ? ' <b>(shared with calibration: optimistic)</b>' : ''}. Only agreement lost beyond FP32's own one-pixel-shift floor counts towards the estimated drop. Search: ${num(c.seconds)} s.</p>${trials}${sensitivity}</section>
<section><h2>Kept in float, and why</h2>${kept}</section>
<section><h2>Per-layer error: FP32 against INT8</h2><p class="note">Each activation of the written model (its DequantizeLinear output, as the next layer reads it) against the FP32 model's, on ${data.layerErrorFrames} held-back frames: SQNR = 10·log10(Σx² / Σ(x−q)²) and cosine similarity. It includes the error inherited from earlier layers.</p>
<input id="filter" class="filter" placeholder="filter tensors by name"><button id="sort-sqnr">sort by SQNR</button> <button id="sort-graph">graph order</button>
<div class="scroll">${layers}</div></section>
<section><h2>Activation histograms</h2><p class="note">Calibration values on a log scale. <span class="legend"><span><i style="background:#e4572e"></i>chosen range</span><span><i style="background:#777"></i>observed min/max (dashed)</span><span><i style="background:${METHOD_COLOURS.minmax}"></i>min-max</span><span><i style="background:${METHOD_COLOURS.percentile}"></i>percentile</span><span><i style="background:${METHOD_COLOURS.entropy}"></i>entropy</span></span></p><div class="grid">${histograms}</div></section>
${warnings}
<p class="note">Report gathered in ${num(data.seconds)} s by int8-detect.</p>
</main><script>${SCRIPT}</script></body></html>
`;
}
