// Step timeline (durations over the run, outliers marked; click a step for its spans) and the
// memory timeline (live bytes over the whole run and the embedded window, each peak annotated
// with the module running then).
'use strict';

function spanName(run, i) { const s = run.signatures[run.spans.sig[i]]; return s ? s.name : '?'; }
function spanKind(run, i) { const s = run.signatures[run.spans.sig[i]]; return s ? s.kind : '?'; }

function stepPanel(run) {
  const st = run.stepList, n = st.step.length;
  const detail = el('div', { id: 'tw-step-detail' });
  if (n === 0) return section('steps', 'Steps', el('p', { class: 'note', text: 'This run has no profiler steps (call profiler.step() once per training step).' }));
  const outliers = new Set(run.outliers);
  const width = panelWidth(), height = 150, left = 56, plotW = width - left - 8;
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, st.dur[i]);
  const sorted = Array.from(st.dur).sort((a, b) => a - b), median = sorted[Math.floor(n / 2)];
  const s = svg('svg', { width, height: height + 24, id: 'tw-step-chart' });
  const y = (v) => height - v / (max || 1) * (height - 10);
  for (const f of [0, 0.5, 1]) {
    s.append(svg('line', { x1: left, x2: width - 8, y1: y(max * f), y2: y(max * f), stroke: '#e3e7ee' }));
    s.append(svg('text', { class: 'axis', x: left - 6, y: y(max * f) + 4, 'text-anchor': 'end', text: fmtDur(max * f) }));
  }
  const barW = plotW / n;
  const select = (i) => showStep(run, i, detail, s);
  if (n <= 4000) {
    for (let i = 0; i < n; i++) {
      const out = outliers.has(st.step[i]);
      s.append(svg('rect', { class: 'bar', x: (left + i * barW).toFixed(2), y: y(st.dur[i]).toFixed(2), width: Math.max(barW - (barW > 3 ? 1 : 0), 0.6).toFixed(2),
        height: (height - y(st.dur[i])).toFixed(2), fill: out ? '#d84343' : '#7fa6e8', 'data-step': st.step[i], 'data-outlier': out ? 1 : null,
        tip: ['step ' + st.step[i] + ': ' + fmtDur(st.dur[i]), (st.dur[i] / median).toFixed(2) + '× the median' + (out ? ' (outlier)' : ''), 'click for its spans'],
        onclick: () => select(i) }));
    }
  } else {
    // Too many steps for one bar each: the slowest step of each pixel column.
    const cols = Math.floor(plotW), best = new Int32Array(cols).fill(-1);
    for (let i = 0; i < n; i++) { const c = Math.min(cols - 1, Math.floor(i / n * cols)); if (best[c] < 0 || st.dur[i] > st.dur[best[c]]) best[c] = i; }
    for (let c = 0; c < cols; c++) {
      const i = best[c]; if (i < 0) continue;
      const out = outliers.has(st.step[i]);
      s.append(svg('rect', { class: 'bar', x: left + c, y: y(st.dur[i]).toFixed(2), width: 1, height: (height - y(st.dur[i])).toFixed(2),
        fill: out ? '#d84343' : '#7fa6e8', 'data-step': st.step[i], tip: ['step ' + st.step[i] + ': ' + fmtDur(st.dur[i]) + ' (slowest of its pixel)'], onclick: () => select(i) }));
    }
  }
  s.append(svg('line', { x1: left, x2: width - 8, y1: y(median), y2: y(median), stroke: '#2e7d32', 'stroke-dasharray': '4 3' }));
  s.append(svg('text', { class: 'axis', x: width - 8, y: height + 16, 'text-anchor': 'end', text: 'step ' + st.step[n - 1] }));
  s.append(svg('text', { x: (left + width) / 2, y: height + 16, 'text-anchor': 'middle', class: 'median', text: '- - median ' + fmtDur(median) }));
  s.append(svg('text', { class: 'axis', x: left, y: height + 16, text: 'step ' + st.step[0] }));
  const w = run.window;
  const note = n + ' steps, median ' + fmtDur(median) + ', ' + run.outliers.length + ' outlier' + (run.outliers.length === 1 ? '' : 's')
    + ' (red: slower than 1.5× the median and 6 median deviations). Raw spans embedded for '
    + (w.steps ? 'steps ' + w.steps[0] + '..' + w.steps[1] : 'the start of the run') + ' (' + w.spans + ' spans'
    + (w.truncated ? ', cut at ' + w.budget : '') + '; tracectl html --window A..B for others).';
  const sec = section('steps', 'Steps', el('p', { class: 'note', text: note }), s, detail);
  // Start on the slowest embedded step.
  let first = -1;
  for (let i = 0; i < n; i++) if (stepHasSpans(run, st.step[i]) && (first < 0 || st.dur[i] > st.dur[first])) first = i;
  sec.twDraw = () => { if (first >= 0) select(first); else detail.append(el('p', { class: 'note', text: 'No raw spans embedded.' })); };
  return sec;
}

function stepHasSpans(run, step) { const w = run.window.steps; return w !== null && step >= w[0] && step <= w[1] && run.spans.n > 0; }

/** The spans of one step as a small timeline: one lane per thread and depth. */
function showStep(run, index, box, chart) {
  const st = run.stepList, step = st.step[index], sp = run.spans;
  for (const r of chart.querySelectorAll('rect.bar')) r.setAttribute('stroke', Number(r.getAttribute('data-step')) === step ? '#111' : 'none');
  box.textContent = '';
  box.dataset.step = step;
  const title = el('h3', { text: 'Step ' + step + ': ' + fmtDur(st.dur[index]) });
  if (!stepHasSpans(run, step)) { box.append(title, el('p', { class: 'note', text: 'Its spans are not embedded; write the report with --window ' + step + ' to see them.' })); return; }
  const t0 = st.ts[index], t1 = t0 + st.dur[index];
  const idx = [];
  for (let i = 0; i < sp.n; i++) if (sp.step[i] === step) idx.push(i);
  const lanes = new Map();
  for (const i of idx) { const sig = run.signatures[sp.sig[i]] || { thread: 0, depth: 0 }; const k = sig.thread * 1000 + sig.depth; if (!lanes.has(k)) lanes.set(k, lanes.size); }
  const keys = [...lanes.keys()].sort((a, b) => a - b); keys.forEach((k, j) => lanes.set(k, j));
  const width = panelWidth(), laneH = 20, left = 56, plotW = width - left - 8;
  const s = svg('svg', { width, height: keys.length * laneH + 22, id: 'tw-step-spans' });
  const x = (t) => left + (t - t0) / Math.max(t1 - t0, 1) * plotW;
  let drawn = 0;
  for (const i of idx) {
    const known = run.signatures[sp.sig[i]] || { thread: 0, depth: 0, kind: '?', name: '?' };
    const sig = known.kind === 'step' ? Object.assign({}, known, { name: 'ProfilerStep#' + step }) : known;
    const lane = lanes.get(sig.thread * 1000 + sig.depth);
    const x0 = x(sp.ts[i]), w = Math.max(x(sp.ts[i] + sp.dur[i]) - x0, 0.5);
    const g = svg('g', { class: 'span', 'data-name': sig.name, 'data-dur': sp.dur[i], tip: [sig.name + ' (' + sig.kind + ')', fmtDur(sp.dur[i]) + ' at +' + fmtDur(sp.ts[i] - t0)]
      .concat(sig.in ? ['input shapes: ' + sig.in] : []).concat(sp.live ? ['live after: ' + fmtBytes(sp.live[i])] : []) });
    g.append(svg('rect', { x: x0.toFixed(2), y: lane * laneH, width: w.toFixed(2), height: laneH - 2, rx: 2,
      fill: sig.kind === 'backward' ? colour(sig.name, 62) : sig.kind === 'forward' ? colour(sig.name, 76) : '#c9d2df' }));
    if (w > 40) g.append(svg('text', { x: (x0 + 3).toFixed(2), y: lane * laneH + 14, text: (sig.kind === 'backward' ? sig.name + ' ⟵' : sig.name).slice(0, Math.floor(w / 6.6)) }));
    s.append(g);
    drawn++;
  }
  s.append(svg('text', { class: 'axis', x: left, y: keys.length * laneH + 16, text: '0' }));
  s.append(svg('text', { class: 'axis', x: width - 8, y: keys.length * laneH + 16, 'text-anchor': 'end', text: fmtDur(t1 - t0) }));
  box.append(title, el('p', { class: 'note', text: drawn + ' spans; rows are nesting depth per thread; hover for names and times.' }), s);
}

function memoryPanel(run) {
  const sp = run.spans, parts = [], series = run.memorySeries;
  if (series) parts.push(runMemoryChart(run));
  if (sp.live && sp.n > 0) parts.push(windowMemoryChart(run));
  if (!parts.length) parts.push(el('p', { class: 'note', text: run.run.spans === 0 ? 'No spans in this run.' : 'Memory was not recorded in this run.' }));
  const rows = run.modules.filter((m) => m.fwd.alloc > 0 || m.bwd.alloc > 0).sort((a, b) => (b.fwd.alloc + b.bwd.alloc) - (a.fwd.alloc + a.bwd.alloc)).slice(0, 20);
  if (rows.length) {
    const width = panelWidth(), rowH = 20, left = 190, plotW = Math.min(width - left - 110, 700);
    const max = Math.max(...rows.map((m) => m.fwd.alloc + m.bwd.alloc));
    const s = svg('svg', { width, height: rows.length * rowH + 4, id: 'tw-alloc' });
    rows.forEach((m, j) => {
      const y = j * rowH, wf = m.fwd.alloc / max * plotW, wb = m.bwd.alloc / max * plotW;
      const g = svg('g', { 'data-module': m.name, tip: [m.name + ' (' + m.type + ')', 'forward ' + fmtBytes(m.fwd.alloc) + ' over ' + m.fwd.calls + ' calls',
        'backward ' + fmtBytes(m.bwd.alloc) + ' over ' + m.bwd.calls + ' calls', 'peak while it ran: ' + (m.peak === null ? '?' : fmtBytes(m.peak))] });
      g.append(svg('text', { x: left - 8, y: y + 14, 'text-anchor': 'end', text: m.name.length > 28 ? m.name.slice(0, 27) + '…' : m.name }));
      g.append(svg('rect', { x: left, y: y + 2, width: Math.max(wf, 0.5).toFixed(2), height: rowH - 5, fill: '#7fa6e8' }));
      g.append(svg('rect', { x: (left + wf).toFixed(2), y: y + 2, width: Math.max(wb, 0).toFixed(2), height: rowH - 5, fill: '#e8a87f' }));
      g.append(svg('text', { class: 'axis', x: (left + wf + wb + 6).toFixed(2), y: y + 14, text: fmtBytes(m.fwd.alloc + m.bwd.alloc) }));
      s.append(g);
    });
    parts.push(el('h3', { text: 'Bytes allocated per module (children included)' }),
      el('div', { class: 'legend' }, el('span', {}, el('span', { class: 'swatch', 'data-c': 'f' }), 'forward'), el('span', {}, el('span', { class: 'swatch', 'data-c': 'b' }), 'backward')), s);
  }
  return section('memory', 'Memory', ...parts);
}

/** Live bytes over the whole run, from the reader's buckets; the run's exact peak annotated, the embedded window shaded. */
function runMemoryChart(run) {
  const m = run.memorySeries, n = m.ts.length, peak = run.memory.peak, sp = run.spans;
  let t1 = 0;
  for (let i = 0; i < n; i++) t1 = Math.max(t1, m.ts[i]);
  let shade = null;
  if (sp.n > 0) {
    let a = Infinity, b = -Infinity;
    for (let i = 0; i < sp.n; i++) { a = Math.min(a, sp.ts[i]); b = Math.max(b, sp.ts[i] + sp.dur[i]); }
    shade = [a, b];
  }
  const what = run.memory.source === 'steps' ? ' steps (each: its peak and the bytes live at its end)' : ' spans (each: its peak and the bytes live at its end)';
  const caption = 'Live tensor bytes over the ' + (run.steps ? 'steps ' + run.steps[0] + '..' + run.steps[1] : 'whole run') + ': ' + run.memory.count + what
    + (n < run.memory.count ? ', in ' + n + ' buckets (the lowest and highest bytes of each)' : '') + '.' + (shade ? ' Shaded: the embedded span window, drawn in detail below.' : '');
  return liveChart({ id: 'tw-memory-chart', peakId: 'tw-peak', t0: 0, t1, n, ts: m.ts, low: m.low, high: m.high, peak, shade, caption });
}

/** Live bytes at the end of each embedded span, the window's own peak annotated. */
function windowMemoryChart(run) {
  const sp = run.spans, n = sp.n, ends = new Float64Array(n);
  let t0 = Infinity, t1 = -Infinity;
  for (let i = 0; i < n; i++) { ends[i] = sp.ts[i] + sp.dur[i]; t0 = Math.min(t0, sp.ts[i]); t1 = Math.max(t1, ends[i]); }
  const w = run.window.steps;
  const caption = 'The embedded window' + (w ? ' (steps ' + w[0] + '..' + w[1] + ')' : '') + ': live tensor bytes at the end of each span (' + n + ' spans).';
  return liveChart({ id: 'tw-memory-window', peakId: 'tw-window-peak', t0, t1, n, ts: ends, low: sp.live, high: sp.live, peak: run.window.peak, shade: null, caption });
}

/** A live-bytes chart: per pixel column the lowest and highest value ending there, joined in time order. */
function liveChart(o) {
  const width = panelWidth(), height = 170, left = 64, plotW = width - left - 8;
  let max = 0, min = Infinity;
  for (let i = 0; i < o.n; i++) { max = Math.max(max, o.high[i]); min = Math.min(min, o.low[i]); }
  if (o.peak) max = Math.max(max, o.peak.bytes);
  const lo = Math.max(0, min - (max - min) * 0.1);
  const x = (t) => left + (t - o.t0) / Math.max(o.t1 - o.t0, 1) * plotW, y = (v) => 8 + (1 - (v - lo) / Math.max(max - lo, 1)) * (height - 16);
  const cols = Math.floor(plotW) + 1, hi = new Float64Array(cols).fill(-1), low = new Float64Array(cols).fill(-1);
  for (let i = 0; i < o.n; i++) {
    const c = Math.min(cols - 1, Math.max(0, Math.floor(x(o.ts[i]) - left)));
    if (hi[c] < 0 || o.high[i] > hi[c]) hi[c] = o.high[i];
    if (low[c] < 0 || o.low[i] < low[c]) low[c] = o.low[i];
  }
  let d = '';
  for (let c = 0; c < cols; c++) if (hi[c] >= 0) d += (d ? 'L' : 'M') + (left + c) + ' ' + y(low[c]).toFixed(1) + 'L' + (left + c) + ' ' + y(hi[c]).toFixed(1);
  const s = svg('svg', { width, height: height + 22, id: o.id });
  if (o.shade) {
    const a = x(o.shade[0]), b = Math.max(x(o.shade[1]), a + 2);
    s.append(svg('rect', { class: 'window', x: a.toFixed(1), y: 4, width: (b - a).toFixed(1), height: height - 8, fill: '#eef3fb', tip: ['the embedded span window'] }));
  }
  for (const f of [0, 0.5, 1]) {
    const v = lo + (max - lo) * f;
    s.append(svg('line', { x1: left, x2: width - 8, y1: y(v), y2: y(v), stroke: '#e3e7ee' }));
    s.append(svg('text', { class: 'axis', x: left - 6, y: y(v) + 4, 'text-anchor': 'end', text: fmtBytes(v) }));
  }
  s.append(svg('path', { d, fill: 'none', stroke: '#2f6fdb', 'stroke-width': 1.3 }));
  let caption = o.caption;
  const peak = o.peak;
  if (peak) {
    const px = x(peak.ts), py = y(peak.bytes);
    const who = (peak.module || peak.span) + ' (' + peak.phase + ')';
    s.append(svg('circle', { cx: px.toFixed(1), cy: py.toFixed(1), r: 4.5, fill: '#d84343', id: o.peakId, 'data-bytes': peak.bytes, 'data-step': peak.step }));
    const text = 'peak ' + fmtBytes(peak.bytes) + ' in ' + who + ', step ' + peak.step;
    s.append(svg('text', { x: (px > width / 2 ? px - 8 : px + 8).toFixed(1), y: Math.max(py - 6, 12).toFixed(1), 'text-anchor': px > width / 2 ? 'end' : 'start', text, id: o.peakId + '-label' }));
    caption += ' The peak, ' + fmtBytes(peak.bytes) + ', came while ' + who + ' ran in step ' + peak.step + '.';
  }
  s.append(svg('text', { class: 'axis', x: left, y: height + 16, text: fmtDur(o.t0) }));
  s.append(svg('text', { class: 'axis', x: width - 8, y: height + 16, 'text-anchor': 'end', text: fmtDur(o.t1) }));
  return el('div', {}, el('p', { class: 'note', text: caption }), s);
}
