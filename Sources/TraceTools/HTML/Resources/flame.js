// Module flame graph (icicle): the module tree, forward and backward side by side, sized by
// time or by allocated bytes. Click a frame to zoom into it, the top frame to zoom out.
'use strict';

/** The module tree of a run for one phase ('fwd' or 'bwd') and metric ('time' or 'bytes'). */
function moduleTree(run, phase, metric) {
  const value = (m) => metric === 'time' ? m[phase].total : m[phase].alloc;
  const nodes = new Map();
  for (const m of run.modules) nodes.set(m.id, { module: m, name: m.name, value: value(m), children: [] });
  const root = { module: null, name: 'all modules', value: 0, children: [] };
  for (const node of nodes.values()) {
    const parent = node.module.parent !== null && nodes.get(node.module.parent);
    (parent || root).children.push(node);
  }
  const prune = (node) => {
    node.children = node.children.filter((c) => c.value > 0 || c.children.some((g) => g.value > 0));
    node.children.forEach(prune);
  };
  prune(root);
  // As wide as its own total or its children's, whichever is more (a parent can record fewer
  // bytes than its children when memory is freed and reused inside it).
  const widen = (node) => { const kids = node.children.reduce((s, c) => s + widen(c), 0); node.value = Math.max(node.value, kids); return node.value; };
  root.value = 0;
  widen(root);
  return root;
}

function flameTip(run, node, phase, metric) {
  if (!node.module) return [node.name, (metric === 'time' ? fmtDur(node.value) : fmtBytes(node.value)) + ' in total'];
  const m = node.module, t = m[phase];
  const lines = [m.name + ' (' + m.type + ')', (phase === 'fwd' ? 'forward' : 'backward') + ': ' + t.calls + ' calls'];
  if (metric === 'time') {
    lines.push('total ' + fmtDur(t.total) + ', self ' + fmtDur(t.self));
    lines.push('mean ' + fmtDur(t.mean) + ', p50 ' + fmtDur(t.p50) + ', p95 ' + fmtDur(t.p95));
  } else {
    const childBytes = node.children.reduce((s, c) => s + c.value, 0);
    lines.push('allocated ' + fmtBytes(t.alloc) + ' (self ' + fmtBytes(Math.max(0, t.alloc - childBytes)) + ')');
    lines.push('per call ' + fmtBytes(t.calls ? t.alloc / t.calls : 0));
  }
  if (m.inShapes.length) lines.push('input shapes: ' + m.inShapes.join('  '));
  if (m.outShapes.length) lines.push('output shapes: ' + m.outShapes.join('  '));
  if (m.mode) lines.push('mode: ' + m.mode);
  return lines;
}

/** Draws one icicle into `box`, zoomed on `focus` (a node of `root`). */
function drawIcicle(box, run, phase, metric, root, focus) {
  box.textContent = '';
  const width = box.clientWidth || 600, rowH = 22;
  const path = [];
  const find = (n) => { if (n === focus) return true; for (const c of n.children) if (find(c)) { path.unshift(c); return true; } return false; };
  find(root);
  path.unshift(root);
  path.pop();
  let depth = 0;
  const measure = (n, d) => { depth = Math.max(depth, d); n.children.forEach((c) => measure(c, d + 1)); };
  measure(focus, path.length);
  const height = (depth + 1) * rowH + 18;
  const s = svg('svg', { width, height, role: 'img', 'aria-label': (phase === 'fwd' ? 'forward' : 'backward') + ' flame graph' });
  const frame = (n, x, w, d, dim) => {
    const name = n.module ? n.module.type : 'all';
    const g = svg('g', { class: 'frame-g', 'data-module': n.name, tip: () => flameTip(run, n, phase, metric) });
    g.append(svg('rect', { class: 'frame', x: x.toFixed(2), y: d * rowH, width: Math.max(w - 0.5, 0.5).toFixed(2), height: rowH - 1,
      fill: n.module ? colour(name, dim ? 86 : 72) : '#cfd6e2', rx: 2 }));
    if (w > 34) {
      const label = n.name + (w > 150 ? '  ' + (metric === 'time' ? fmtDur(n.value) : fmtBytes(n.value)) : '');
      const maxChars = Math.floor((w - 8) / 6.6);
      g.append(svg('text', { x: (x + 4).toFixed(2), y: d * rowH + 15, text: label.length > maxChars ? label.slice(0, Math.max(1, maxChars - 1)) + '…' : label }));
    }
    g.addEventListener('click', () => drawIcicle(box, run, phase, metric, root, n === focus && path.length ? path[path.length - 1] : n));
    s.append(g);
  };
  path.forEach((n, d) => frame(n, 0, width, d, true));
  const layout = (n, x, w, d) => {
    frame(n, x, w, d, false);
    const total = n.children.reduce((acc, c) => acc + c.value, 0);
    const scale = total > n.value && total > 0 ? n.value / total : 1;
    let cx = x;
    for (const c of n.children) {
      const cw = n.value > 0 ? w * c.value * scale / n.value : 0;
      if (cw >= 0.5) layout(c, cx, cw, d + 1);
      cx += cw;
    }
  };
  layout(focus, 0, width, path.length);
  s.append(svg('text', { class: 'axis', x: 0, y: height - 4, text: focus.module
    ? 'zoomed on ' + focus.name + ': click the top frame to zoom out' : 'click a frame to zoom' }));
  box.append(s);
}

function flamePanel(run) {
  const state = { phase: 'both', metric: 'time' };
  const panes = el('div', { class: 'flames' });
  const draw = () => {
    panes.textContent = '';
    const pending = [];
    for (const phase of state.phase === 'both' ? ['fwd', 'bwd'] : [state.phase]) {
      const root = moduleTree(run, phase, state.metric);
      const title = (phase === 'fwd' ? 'Forward' : 'Backward') + ' by ' + (state.metric === 'time' ? 'time' : 'allocated bytes')
        + ': ' + (state.metric === 'time' ? fmtDur(root.value) : fmtBytes(root.value));
      const box = el('div', { class: 'flame', 'data-phase': phase });
      panes.append(el('div', {}, el('h3', { text: title }), box));
      if (root.children.length === 0) { box.append(el('p', { class: 'note', text: 'No ' + (phase === 'fwd' ? 'forward' : 'backward') + ' spans in this run.' })); continue; }
      pending.push(() => drawIcicle(box, run, phase, state.metric, root, root));
    }
    // Measure the panes only when all of them are in place.
    pending.forEach((f) => f());
  };
  const controls = el('div', { class: 'controls' },
    toggle([['both', 'Forward + backward'], ['fwd', 'Forward'], ['bwd', 'Backward']], 'both', (v) => { state.phase = v; draw(); }),
    toggle([['time', 'Time'], ['bytes', 'Bytes']], 'time', (v) => { state.metric = v; draw(); }),
    el('span', { class: 'note', text: 'Width: total of the module and what it calls. Hover for calls, self time, percentiles, shapes and mode.' }));
  const s = section('flame', 'Module flame graph', controls, panes);
  s.twDraw = draw;
  return s;
}
