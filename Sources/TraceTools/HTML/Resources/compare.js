// Several runs: the rank × step heatmap with straggler and POP efficiencies, and the diff of two runs.
'use strict';

/** Runs of one data-parallel job: distinct ranks of the same world size. */
function rankRuns(doc) {
  const runs = doc.runs.filter((r) => r.run.worldSize > 1);
  const ranks = new Set(runs.map((r) => r.run.rank));
  if (runs.length < 2 || ranks.size !== runs.length || new Set(runs.map((r) => r.run.worldSize)).size !== 1) return null;
  return runs.slice().sort((a, b) => a.run.rank - b.run.rank);
}

/** Two runs to compare when they are not ranks of one job. */
function diffPair(doc) { return doc.runs.length === 2 && !rankRuns(doc) ? doc.runs : null; }

function ranksPanel(doc) {
  const runs = rankRuns(doc);
  if (!runs) {
    const r = doc.runs[0].run;
    return section('ranks', 'Ranks', el('p', { class: 'note', text: 'One rank' + (r.worldSize > 1 ? ' (rank ' + r.rank + ' of ' + r.worldSize + ')' : '')
      + ': the rank × step heatmap needs one trace per rank (tracectl html rank0.sqlite rank1.sqlite …).' }));
  }
  const steps = new Map();
  runs.forEach((run, r) => { const st = run.stepList; for (let i = 0; i < st.step.length; i++) { if (!steps.has(st.step[i])) steps.set(st.step[i], new Float64Array(runs.length).fill(NaN)); steps.get(st.step[i])[r] = st.dur[i]; } });
  const stepNos = [...steps.keys()].sort((a, b) => a - b);
  let max = 0;
  for (const v of steps.values()) for (const d of v) if (d > max) max = d;
  const width = panelWidth(), left = 70, cellH = 22, plotW = width - left - 8, cw = plotW / Math.max(stepNos.length, 1);
  const s = svg('svg', { width, height: runs.length * cellH + 24, id: 'tw-heatmap' });
  const late = new Int32Array(runs.length);
  let sumLB = 0, counted = 0;
  stepNos.forEach((step, k) => {
    const v = steps.get(step);
    let slow = -1, mean = 0, m = 0, n = 0;
    v.forEach((d, r) => { if (!isNaN(d)) { mean += d; n++; if (d > m) { m = d; slow = r; } } });
    if (n === runs.length && m > 0) { late[slow]++; sumLB += mean / n / m; counted++; }
    v.forEach((d, r) => {
      if (isNaN(d)) return;
      s.append(svg('rect', { x: (left + k * cw).toFixed(2), y: r * cellH, width: Math.max(cw - (cw > 3 ? 1 : 0), 0.6).toFixed(2), height: cellH - 2,
        fill: 'hsl(' + (220 - 220 * d / max).toFixed(0) + ',70%,55%)', tip: ['rank ' + runs[r].run.rank + ', step ' + step + ': ' + fmtDur(d) + (r === slow ? ' (last to finish)' : '')] }));
    });
  });
  runs.forEach((run, r) => s.append(svg('text', { class: 'axis', x: left - 8, y: r * cellH + 15, 'text-anchor': 'end', text: 'rank ' + run.run.rank })));
  const straggler = late.indexOf(Math.max(...late));
  const lb = counted ? sumLB / counted : NaN;
  const lines = ['Step time per rank and step (blue fast, red slow). Rank ' + runs[straggler].run.rank + ' was the slowest in ' + late[straggler] + ' of ' + counted + ' steps.',
    'Load balance (mean ÷ max step time over ranks, averaged over steps): ' + (isNaN(lb) ? 'n/a' : lb.toFixed(3)) + (lb >= 0.8 ? ' (≥ 0.8: acceptable)' : lb < 0.8 ? ' (below 0.8)' : '') + '.'];
  if (!doc.ranks) {
    lines.push('All-reduce wait and communication efficiency need collective spans in the traces; these files have none.');
    return section('ranks', 'Ranks', ...lines.map((t) => el('p', { class: 'note', text: t })), s);
  }
  const wait = waitHeatmap(doc.ranks, runs, stepNos, { width, left, cellH, cw });
  const stepBox = el('div', {}, s), waitBox = el('div', { hidden: true }, wait);
  const pick = toggle([['step', 'Step time'], ['wait', 'All-reduce wait']], 'step', (v) => { stepBox.hidden = v !== 'step'; waitBox.hidden = v !== 'wait'; });
  pick.id = 'tw-heatmap-toggle';
  return section('ranks', 'Ranks', ...lines.map((t) => el('p', { class: 'note', text: t })), ...popLines(doc.ranks).map((t) => el('p', { class: 'note', text: t })),
    el('p', {}, pick), stepBox, waitBox);
}

/** The all-reduce wait (for the slowest rank) per rank × step, as `tracectl ranks` computes it. */
function waitHeatmap(ranks, runs, stepNos, g) {
  const s = svg('svg', { width: g.width, height: runs.length * g.cellH + 24, id: 'tw-heatmap-wait' });
  const column = new Map(stepNos.map((step, k) => [step, k]));
  const row = new Map(runs.map((run, r) => [run.run.rank, r]));
  let max = 0;
  for (const c of ranks.cells) if (c[3] > max) max = c[3];
  for (const [step, rank, total, wait, transfer] of ranks.cells) {
    const k = column.get(step), r = row.get(rank);
    if (k === undefined || r === undefined) continue;
    s.append(svg('rect', { x: (g.left + k * g.cw).toFixed(2), y: r * g.cellH, width: Math.max(g.cw - (g.cw > 3 ? 1 : 0), 0.6).toFixed(2), height: g.cellH - 2,
      'data-rank': rank, 'data-step': step, 'data-wait-ns': wait,
      fill: max > 0 ? 'hsl(' + (220 - 220 * wait / max).toFixed(0) + ',70%,55%)' : 'hsl(220,70%,55%)',
      tip: ['rank ' + rank + ', step ' + step + ': waited ' + fmtDur(wait) + ' for the slowest rank, ' + fmtDur(transfer) + ' transferring, of ' + fmtDur(total)] }));
  }
  runs.forEach((run, r) => s.append(svg('text', { class: 'axis', x: g.left - 8, y: r * g.cellH + 15, 'text-anchor': 'end', text: 'rank ' + run.run.rank })));
  return s;
}

/** POP's efficiencies and the straggler, from the report's `ranks` object (the numbers of `tracectl ranks`). */
function popLines(ranks) {
  const f = (v) => v === null ? 'n/a' : v.toFixed(3);
  const lines = ['Communication efficiency (POP: max useful ÷ total time): ' + f(ranks.communicationEfficiency)
      + '; useful = step time minus the all-reduce wait and transfer training waited for (comm_wait spans split the wait).',
    'Load balance (POP: mean ÷ max useful time): ' + f(ranks.loadBalance) + '; parallel efficiency '
      + (ranks.loadBalance === null || ranks.communicationEfficiency === null ? 'n/a' : (ranks.loadBalance * ranks.communicationEfficiency).toFixed(3)) + ' (≥ 0.8 is good).'];
  const st = ranks.straggler;
  if (st) lines.push('Straggler: rank ' + st.rank + ' made the others wait ' + fmtDur(st.causedNs) + ' in all' + (st.module && st.growthNs > 0 ? '; its ' + st.module + ' took ' + fmtDur(st.growthNs) + ' more than its median in the steps it arrived last.' : '.'));
  lines.push(ranks.alignment);
  return lines;
}

function diffPanel(base, now) {
  const key = (m) => m.name + '\u0000' + m.type;
  const perStep = base.stepCount > 0 && now.stepCount > 0;
  const scale = (run) => perStep ? run.stepCount : 1;
  const time = (m) => m ? m.fwd.total + m.bwd.total : 0;
  const a = new Map(base.modules.filter((m) => m.fwd.calls > 0).map((m) => [key(m), m]));
  const b = new Map(now.modules.filter((m) => m.fwd.calls > 0).map((m) => [key(m), m]));
  const rows = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) rows.push({ base: a.get(k), now: b.get(k), m: b.get(k) || a.get(k) });
  const t0 = (r) => time(r.base) / scale(base), t1 = (r) => time(r.now) / scale(now);
  rows.sort((x, y) => Math.abs(t1(y) - t0(y)) - Math.abs(t1(x) - t0(x)));
  const both = rows.filter((r) => r.base && r.now);
  const unit = perStep ? '/step' : '';
  const table = sortableTable('tw-diff', [
    ['Module', (r) => r.m.name, (r) => r.m.name], ['Type', (r) => r.m.type, (r) => r.m.type],
    ['Base time' + unit, t0, (r) => fmtDur(t0(r)), true], ['New time' + unit, t1, (r) => fmtDur(t1(r)), true],
    ['Change', (r) => t0(r) ? (t1(r) - t0(r)) / t0(r) : 0, (r) => fmtChange(t0(r), t1(r)), true],
    ['Base alloc/call', (r) => r.base.alloc / Math.max(r.base.fwd.calls, 1), (r) => fmtBytes(r.base.alloc / Math.max(r.base.fwd.calls, 1)), true],
    ['New alloc/call', (r) => r.now.alloc / Math.max(r.now.fwd.calls, 1), (r) => fmtBytes(r.now.alloc / Math.max(r.now.fwd.calls, 1)), true],
    ['Shapes', (r) => r.base.inShapes.join(' ') === r.now.inShapes.join(' ') ? '' : 'changed',
      (r) => r.base.inShapes.join(' ') === r.now.inShapes.join(' ') ? '' : r.base.inShapes.join(' ') + ' → ' + r.now.inShapes.join(' ')],
  ], both);
  const list = (title, items) => items.length ? el('p', {}, el('b', { text: title + ': ' }), items.map((r) => r.m.name + ' (' + r.m.type + ')').join(', ')) : null;
  return section('diff', 'Diff', el('p', { class: 'note', text: 'Base: ' + base.file + ' run ' + base.run.id + ' "' + base.run.name + '"; new: ' + now.file + ' run ' + now.run.id + ' "' + now.run.name + '". Times '
    + (perStep ? 'per step' : 'in total') + ', largest change first.' }), table,
    list('New modules', rows.filter((r) => !r.base)), list('Missing modules', rows.filter((r) => !r.now)));
}
