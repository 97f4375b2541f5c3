// The per-module table (the columns of `tracectl report`), sortable, and the other spans.
'use strict';

/** A table whose headers sort it; `columns`: [label, key(row) -> sortable value, render(row) -> text, numeric]. */
function sortableTable(id, columns, rows, initial) {
  const table = el('table', { id });
  const head = el('tr');
  const body = el('tbody');
  let sortBy = initial === undefined ? -1 : initial, desc = true;
  const fill = () => {
    body.textContent = '';
    const sorted = rows.slice();
    if (sortBy >= 0) {
      const key = columns[sortBy][1];
      sorted.sort((a, b) => { const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * (desc ? -1 : 1); });
    }
    for (const r of sorted) {
      const tr = el('tr');
      columns.forEach(([, , render, numeric], i) => tr.append(el('td', { class: numeric ? 'num' : null, text: render(r, sortBy < 0) })));
      body.append(tr);
    }
    [...head.children].forEach((th, i) => { th.classList.toggle('sorted-desc', i === sortBy && desc); th.classList.toggle('sorted-asc', i === sortBy && !desc); });
  };
  columns.forEach(([label, , , numeric], i) => {
    head.append(el('th', { class: numeric ? 'num' : null, text: label, title: 'sort by ' + label, onclick: () => {
      if (sortBy === i) desc = !desc; else { sortBy = i; desc = numeric; }
      fill();
    } }));
  });
  table.append(el('thead', {}, head), body);
  fill();
  return el('div', { class: 'tablewrap' }, table);
}

function modulePanel(run) {
  const rows = run.modules.filter((m) => m.fwd.calls > 0 || m.bwd.calls > 0);
  const reference = Math.max(run.referenceTime, 1);
  const hasMemory = rows.some((m) => m.peak !== null);
  const shapes = (m) => m.inShapes.length ? m.inShapes[0] + (m.inShapes.length > 1 ? ' (+' + (m.inShapes.length - 1) + ' more)*' : '') : '';
  const order = new Map(rows.map((m, i) => [m.id, i]));
  const columns = [
    ['Module', (m) => m.name, (m, tree) => (tree ? '\u00a0\u00a0'.repeat(m.depth) : '') + m.name],
    ['Type', (m) => m.type, (m) => m.type],
    ['Calls', (m) => m.fwd.calls, (m) => String(m.fwd.calls), true],
    ['Fwd total', (m) => m.fwd.total, (m) => fmtDur(m.fwd.total), true],
    ['Fwd self', (m) => m.fwd.self, (m) => fmtDur(m.fwd.self), true],
    ['Bwd total', (m) => m.bwd.total, (m) => fmtDur(m.bwd.total), true],
    ['Bwd self', (m) => m.bwd.self, (m) => fmtDur(m.bwd.self), true],
    ['Mean', (m) => m.fwd.mean, (m) => fmtDur(m.fwd.mean), true],
    ['p50', (m) => m.fwd.p50, (m) => fmtDur(m.fwd.p50), true],
    ['p95', (m) => m.fwd.p95, (m) => fmtDur(m.fwd.p95), true],
    ['Step %', (m) => m.fwd.total + m.bwd.total, (m) => fmtPct((m.fwd.total + m.bwd.total) / reference), true],
    ['Alloc/call', (m) => m.alloc / Math.max(m.fwd.calls, 1), (m) => m.peak === null ? '' : fmtBytes(m.alloc / Math.max(m.fwd.calls, 1)), true],
    ['Peak', (m) => m.peak || 0, (m) => m.peak === null ? '' : fmtBytes(m.peak), true],
    ['Input shapes', (m) => shapes(m), shapes],
    ['Mode', (m) => m.mode, (m) => m.mode],
  ];
  const treeColumn = ['#', (m) => -order.get(m.id), (m) => String(order.get(m.id) + 1), true];
  const table = sortableTable('tw-modules', [treeColumn].concat(columns), rows);
  const others = sortableTable('tw-others', [
    ['Kind', (o) => o.kind, (o) => o.kind], ['Name', (o) => o.name, (o) => o.name],
    ['Calls', (o) => o.calls, (o) => String(o.calls), true], ['Total', (o) => o.total, (o) => fmtDur(o.total), true],
    ['Self', (o) => o.self, (o) => fmtDur(o.self), true], ['Mean', (o) => o.mean, (o) => fmtDur(o.mean), true],
    ['p50', (o) => o.p50, (o) => fmtDur(o.p50), true], ['p95', (o) => o.p95, (o) => fmtDur(o.p95), true],
  ], run.others, 3);
  return section('modules', 'Modules', el('p', { class: 'note', text: 'Click a column to sort (# restores the tree order). Self time excludes child spans; p50/p95 from log-linear histograms (within 1.6%)'
      + (hasMemory ? '.' : '; memory was not recorded.') }), table,
    run.others.length ? el('h3', { text: 'Steps, optimizer and user ranges' }) : null, run.others.length ? others : null);
}

function findingsPanel(run) {
  const list = el('ul', { class: 'findings' });
  for (const f of run.findings) {
    list.append(el('li', { 'data-severity': f.severity },
      el('span', { class: 'badge sev-' + f.severity, text: f.severity }), richText(f.title),
      f.detail ? el('p', { class: 'detail' }, richText(f.detail)) : null,
      f.fix ? el('p', { class: 'fix' }, el('b', { text: 'Fix: ' }), richText(f.fix)) : null));
  }
  return section('findings', 'Findings', list);
}
