// Tracewell report: helpers shared by the panels. Trace text only ever reaches the page
// through text nodes (el/svg below never parse HTML), so a module named
// a closing script tag followed by a script of its own is shown, not run.
'use strict';

const TW = { errors: [], violations: [] };

window.addEventListener('error', (e) => { TW.errors.push(String(e.message)); markErrors(); });
window.addEventListener('unhandledrejection', (e) => { TW.errors.push('unhandled rejection: ' + String(e.reason)); markErrors(); });
document.addEventListener('securitypolicyviolation', (e) => {
  TW.violations.push(e.violatedDirective + ' ' + e.blockedURI);
  document.documentElement.dataset.cspViolations = String(TW.violations.length);
});

function markErrors() { document.documentElement.dataset.errors = String(TW.errors.length); }

/** An HTML element; `attrs.text` becomes its text, other attrs are set as attributes. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') node.textContent = String(v);
    else if (k === 'onclick') node.addEventListener('click', v);
    else if (k === 'tip') node.twTip = v;
    else node.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return node;
}

const SVGNS = 'http://www.w3.org/2000/svg';
/** An SVG element; `text` and `tip` as in `el`. */
function svg(tag, attrs) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k === 'text') node.textContent = String(v);
    else if (k === 'tip') node.twTip = v;
    else if (k === 'onclick') node.addEventListener('click', v);
    else node.setAttribute(k, String(v));
  }
  return node;
}

/** Text with `code` spans for backticked parts, as nodes. */
function richText(text) {
  const span = el('span');
  String(text).split('`').forEach((part, i) => { if (part) span.append(i % 2 ? el('code', { text: part }) : document.createTextNode(part)); });
  return span;
}

function fmtDur(ns) {
  const a = Math.abs(ns);
  if (a < 1e3) return ns.toFixed(0) + 'ns';
  if (a < 1e6) return (ns / 1e3).toFixed(1) + 'us';
  if (a < 1e9) return (ns / 1e6).toFixed(2) + 'ms';
  return (ns / 1e9).toFixed(3) + 's';
}
function fmtBytes(b) {
  const a = Math.abs(b);
  if (a < 1024) return b.toFixed(0) + ' B';
  if (a < 1048576) return (b / 1024).toFixed(2) + ' KB';
  if (a < 1073741824) return (b / 1048576).toFixed(2) + ' MB';
  return (b / 1073741824).toFixed(2) + ' GB';
}
function fmtPct(f) { return (f * 100).toFixed(1) + '%'; }
function fmtChange(a, b) { return a === 0 ? (b === 0 ? '0.0%' : 'new') : ((b - a) / a * 100 >= 0 ? '+' : '') + ((b - a) / a * 100).toFixed(1) + '%'; }

/** A stable colour for a name: hue from a string hash. */
function colour(name, lightness) {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return 'hsl(' + (h % 360) + ',62%,' + (lightness || 72) + '%)';
}

/** Decodes LEB128 varint column [start, end, count] of `bytes` (zigzag when `signed`). */
function readColumn(bytes, spec, signed) {
  const out = new Float64Array(spec[2]);
  let p = spec[0], n = 0;
  while (n < spec[2] && p < spec[1]) {
    let value = 0, scale = 1, b;
    do { b = bytes[p++]; value += (b & 0x7f) * scale; scale *= 128; } while (b & 0x80);
    out[n++] = signed ? (value % 2 === 1 ? -(value + 1) / 2 : value / 2) : value;
  }
  return out;
}
function prefixSum(a) { let s = 0; for (let i = 0; i < a.length; i++) { s += a[i]; a[i] = s; } return a; }

/** Inflates the embedded data: "TWR1", u32 JSON length, JSON, binary columns. */
async function decodeData() {
  const text = document.getElementById('tw-data').textContent.trim();
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
  const data = new Uint8Array(await new Response(stream).arrayBuffer());
  if (String.fromCharCode(data[0], data[1], data[2], data[3]) !== 'TWR1') throw new Error('not Tracewell report data');
  const length = data[4] | data[5] << 8 | data[6] << 16 | data[7] << 24;
  const doc = JSON.parse(new TextDecoder().decode(data.subarray(8, 8 + length)));
  const bin = data.subarray(8 + length);
  for (const run of doc.runs) decodeRun(run, bin);
  return doc;
}

/** Rebuilds a run's steps and embedded spans from its columns. */
function decodeRun(run, bin) {
  const c = run.columns;
  const col = (name, signed) => c[name] ? readColumn(bin, c[name], signed) : null;
  run.stepList = { step: prefixSum(col('stepNo', true)), ts: prefixSum(col('stepTs', true)), dur: col('stepDur') };
  const sig = col('sig'), up = col('up'), gap = col('gap', true), dur = col('dur');
  const n = sig.length;
  const step = prefixSum(col('step', true)), ts = new Float64Array(n), parent = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    parent[i] = up[i] === 0 ? -1 : i - up[i];
    ts[i] = i === 0 ? gap[0] : gap[i] + (parent[i] === i - 1 ? ts[i - 1] : ts[i - 1] + dur[i - 1]);
  }
  const live = c.live ? prefixSum(col('live', true)) : null;
  run.spans = { n, sig, parent, step, ts, dur, live };
  // Live bytes over the whole run: per bucket of spans, the latest end and the lowest and highest bytes.
  run.memorySeries = c.memTs ? { ts: prefixSum(col('memTs', true)), low: prefixSum(col('memLow', true)), high: prefixSum(col('memHigh', true)) } : null;
  run.moduleById = new Map(run.modules.map((m) => [m.id, m]));
}

/** Shows `lines` (strings) in the tooltip at the pointer. */
function installTooltip() {
  const tip = document.getElementById('tw-tip');
  document.addEventListener('mousemove', (e) => {
    let t = e.target;
    while (t && !t.twTip) t = t.parentNode;
    if (!t) { tip.hidden = true; return; }
    const lines = typeof t.twTip === 'function' ? t.twTip() : t.twTip;
    tip.textContent = lines.join('\n');
    tip.hidden = false;
    const x = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
    const y = e.clientY + 16 + tip.offsetHeight > window.innerHeight ? e.clientY - tip.offsetHeight - 10 : e.clientY + 16;
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  });
}

/** A segmented control; `onChange(value)` on click. */
function toggle(options, value, onChange) {
  const box = el('span', { class: 'toggle' });
  for (const [v, label] of options) {
    const b = el('button', { type: 'button', text: label, class: v === value ? 'on' : null, 'data-value': v });
    b.addEventListener('click', () => {
      for (const o of box.children) o.classList.toggle('on', o === b);
      onChange(v);
    });
    box.append(b);
  }
  return box;
}

function section(id, title, ...children) { return el('section', { id, 'data-panel': id }, el('h2', { text: title }), ...children); }
function panelWidth() { return Math.max(600, Math.min(document.documentElement.clientWidth - 84, 1600)); }
