// The static graph as SVG: which module called which, and the ops clustered by module.
'use strict';

function graphPanel(run) {
  const g = run.graph;
  if (!g) return section('graph', 'Static graph', el('p', { class: 'note', text: 'No static graph in this run (the profiler\'s graph option was off, or the run ended before a traced step).' }));
  const box = el('div');
  const state = { view: 'modules' };
  const draw = () => { box.textContent = ''; box.append(state.view === 'modules' ? moduleCallSVG(run, g) : opsSVG(g)); };
  const controls = el('div', { class: 'controls' }, toggle([['modules', 'Module calls'], ['ops', 'Ops by module']], 'modules', (v) => { state.view = v; draw(); }),
    el('span', { class: 'note', text: g.label + (g.comparison ? '. ' + g.comparison : '') }));
  draw();
  return section('graph', 'Static graph', controls, box);
}

/** Module calls as an indented tree: boxes, call counts, bypasses in red. */
function moduleCallSVG(run, g) {
  const children = new Map();
  for (const c of g.calls) { if (!children.has(c.caller)) children.set(c.caller, []); children.get(c.caller).push(c); }
  const bypassed = new Map();
  for (const n of g.nodes) if (n.bypassOf) bypassed.set(n.bypassOf, n.scope || '<top level>');
  const rows = [], seen = new Set();
  const visit = (name, count, depth, parentRow) => {
    const m = run.modules.find((x) => x.name === name);
    rows.push({ name, type: m ? m.type : '', count, depth, parentRow, kind: 'called' });
    const me = rows.length - 1;
    if (seen.has(name)) return;
    seen.add(name);
    for (const c of children.get(name) || []) visit(c.callee, c.count, depth + 1, me);
    if (m) {
      const called = new Set((children.get(name) || []).map((c) => c.callee));
      for (const child of run.modules.filter((x) => x.parent === m.id && !called.has(x.name) && x.registered)) {
        rows.push({ name: child.name, type: child.type, count: 0, depth: depth + 1, parentRow: me,
          kind: bypassed.has(child.name) ? 'bypass' : 'never', caller: bypassed.get(child.name) });
      }
    }
  };
  for (const c of children.get('<top level>') || []) visit(c.callee, c.count, 0, -1);
  const rowH = 30, indent = 28, width = panelWidth();
  const s = svg('svg', { width, height: rows.length * rowH + 8, id: 'tw-graph-modules' });
  rows.forEach((r, j) => {
    const x = 8 + r.depth * indent, y = j * rowH + 4;
    if (r.parentRow >= 0) {
      const px = 8 + rows[r.parentRow].depth * indent + 10, py = r.parentRow * rowH + 4 + 22;
      s.append(svg('path', { d: 'M' + px + ' ' + py + 'V' + (y + 11) + 'H' + x, fill: 'none', stroke: r.kind === 'called' ? '#98a3b5' : '#d84343', 'stroke-dasharray': r.kind === 'called' ? null : '4 3' }));
    }
    const label = r.name + (r.type && r.type !== r.name ? ' (' + r.type + ')' : '') + (r.count > 1 ? '  ×' + r.count : '');
    const note = r.kind === 'bypass' ? '  bypass: forward called directly from ' + r.caller : r.kind === 'never' ? '  never called through its wrapper' : '';
    const w = Math.min(label.length * 6.9 + 16, width - x - 8);
    const grp = svg('g', { 'data-module': r.name, 'data-kind': r.kind, tip: [label + note] });
    grp.append(svg('rect', { x, y, width: w.toFixed(0), height: 22, rx: 4, fill: r.kind === 'called' ? colour(r.type || r.name, 88) : '#fde7e7', stroke: r.kind === 'called' ? '#98a3b5' : '#d84343' }));
    grp.append(svg('text', { x: x + 8, y: y + 15, text: label }));
    if (note) grp.append(svg('text', { class: 'bad', x: x + w + 8, y: y + 15, text: note.trim() }));
    s.append(grp);
  });
  return s;
}

/** Ops top to bottom, each module's run of ops framed and labelled; data edges on the left. */
function opsSVG(g) {
  const rowH = 26, left = 150, boxW = 600, width = panelWidth();
  const items = g.inputs.map((i) => ({ name: i.name, label: i.name + ' : ' + i.type, input: true })).concat(
    g.nodes.map((n) => ({ name: n.out, label: n.out + ' = ' + n.op + '(' + n.inputs.join(', ') + ')  ' + n.type, node: n })));
  const s = svg('svg', { width, height: items.length * rowH + 16, id: 'tw-graph-ops' });
  const row = new Map(items.map((it, j) => [it.name, j]));
  // Module frames around consecutive ops of one scope.
  let j = 0;
  while (j < items.length) {
    const scope = items[j].node ? items[j].node.scope : null;
    let k = j;
    while (k + 1 < items.length && items[k + 1].node && (items[k + 1].node.scope === scope) && scope !== null) k++;
    if (scope !== null && items[j].node) {
      s.append(svg('rect', { x: left - 6, y: j * rowH + 2, width: boxW + 12, height: (k - j + 1) * rowH, rx: 6, fill: 'none', stroke: colour(scope, 55), 'stroke-dasharray': '3 2' }));
      s.append(svg('text', { class: 'axis', x: left + boxW + 14, y: j * rowH + 18, text: scope }));
    }
    j = k + 1;
  }
  items.forEach((it, j) => {
    const y = j * rowH + 5, bad = it.node && it.node.bypassOf;
    for (const input of it.node ? it.node.inputs : []) {
      const from = row.get(input);
      if (from === undefined || from >= j) continue;
      const y0 = from * rowH + 15, y1 = y + 10, bend = left - 14 - Math.min(110, (j - from) * 12);
      s.append(svg('path', { d: 'M' + (left - 2) + ' ' + y0 + 'C' + bend + ' ' + y0 + ' ' + bend + ' ' + y1 + ' ' + (left - 2) + ' ' + y1, fill: 'none', stroke: '#b6bfcc' }));
    }
    const grp = svg('g', { 'data-op': it.node ? it.node.op : 'input', tip: [it.label].concat(bad ? ['bypass: ' + it.node.bypassOf + '.forward called directly'] : []) });
    grp.append(svg('rect', { x: left, y, width: boxW, height: rowH - 6, rx: it.input ? 10 : 3, fill: bad ? '#fde7e7' : it.input ? '#eef1f6' : '#fff', stroke: bad ? '#d84343' : '#98a3b5' }));
    const text = it.label.length > 70 ? it.label.slice(0, 69) + '…' : it.label;
    grp.append(svg('text', { x: left + 8, y: y + 14, text: text + (bad ? '  # bypass: ' + it.node.bypassOf + '.forward' : ''), class: bad ? 'bad' : null }));
    s.append(grp);
  });
  return s;
}
