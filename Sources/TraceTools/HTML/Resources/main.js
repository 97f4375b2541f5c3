// Builds the page from the decoded data: header, navigation and one section per panel.
'use strict';

function header(doc, run) {
  const h = document.getElementById('tw-header');
  h.textContent = '';
  const r = run.run;
  const meta = el('p', { class: 'meta' });
  const add = (label, value) => meta.append(label ? label + ' ' : '', el('b', { text: value }), '   ');
  add('', r.name);
  add('run', String(r.id) + ' (' + r.status + ')');
  add('file', run.file);
  if (r.durationNs !== null) add('duration', fmtDur(r.durationNs));
  add('spans', String(r.spans));
  add('dropped events', String(r.dropped));
  if (run.stepCount > 0) add('steps', run.stepCount + ', ' + fmtDur(run.stepTime / run.stepCount) + ' per step');
  if (r.worldSize > 1) add('rank', r.rank + ' of ' + r.worldSize);
  if (run.steps) add('aggregates over steps', run.steps[0] + '..' + run.steps[1]);
  h.append(el('h1', { text: 'Tracewell report' }), meta);
  if (doc.runs.length > 1) {
    const pick = el('select', { id: 'tw-run-select' });
    doc.runs.forEach((x, i) => pick.append(el('option', { value: i, text: x.file + ' run ' + x.run.id + (x.run.worldSize > 1 ? ' (rank ' + x.run.rank + ')' : '') })));
    pick.value = String(doc.runs.indexOf(run));
    pick.addEventListener('change', () => render(doc, doc.runs[Number(pick.value)]));
    h.append(el('p', { class: 'meta' }, 'Showing ', pick));
  }
  const nav = el('nav');
  for (const [id, label] of [['findings', 'Findings'], ['flame', 'Flame graph'], ['modules', 'Modules'], ['steps', 'Steps'], ['memory', 'Memory'],
    ['graph', 'Static graph'], ['ranks', 'Ranks'], ['diff', 'Diff']]) {
    if (id === 'diff' && !diffPair(doc)) continue;
    nav.append(el('a', { href: '#' + id, text: label }));
  }
  h.append(nav);
}

function render(doc, run) {
  header(doc, run);
  const main = document.getElementById('tw-main');
  main.textContent = '';
  const sections = [findingsPanel(run), flamePanel(run), modulePanel(run), stepPanel(run), memoryPanel(run), graphPanel(run), ranksPanel(doc)];
  const pair = diffPair(doc);
  if (pair) sections.push(diffPanel(pair[0], pair[1]));
  for (const s of sections) main.append(s);
  for (const s of sections) if (s.twDraw) s.twDraw();
}

async function start() {
  const t0 = performance.now();
  try {
    const doc = await decodeData();
    const decoded = performance.now();
    installTooltip();
    render(doc, doc.runs[0]);
    document.documentElement.dataset.decodeMs = (decoded - t0).toFixed(1);
    document.documentElement.dataset.renderMs = performance.now().toFixed(1);
    document.documentElement.dataset.state = 'ready';
  } catch (e) {
    TW.errors.push(String(e && e.stack || e));
    markErrors();
    document.documentElement.dataset.state = 'failed';
    document.getElementById('tw-main').append(el('p', { class: 'error', text: 'The report could not be drawn: ' + String(e) }));
  }
}

start();
