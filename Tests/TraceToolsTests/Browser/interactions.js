// Test-only: run after the report's own script (admitted by its hash in the CSP), it clicks
// through the report with real DOM click events once the page is drawn and writes what each
// click left on the page, as JSON, into a new pre element (id tw-selftest), for the test to assert.
'use strict';
(function () {
  const out = {};
  const click = (node) => node.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, view: window }));
  const need = (node, what) => { if (!node) throw new Error('not on the page: ' + what); return node; };

  // Flame graph: the forward pane's frames (module and rect width) and its zoom caption.
  const pane = () => need(document.querySelector('.flame[data-phase="fwd"]'), 'forward flame graph');
  const flame = () => ({
    frames: [...pane().querySelectorAll('g.frame-g')].map((g) => [g.getAttribute('data-module'), Number(g.querySelector('rect').getAttribute('width'))]),
    caption: [...pane().querySelectorAll('text.axis')].map((t) => t.textContent).pop(),
  });
  const frame = (name) => need([...pane().querySelectorAll('g.frame-g')].filter((g) => g.getAttribute('data-module') === name).pop(), 'frame ' + name);

  // Module table: the Module column top to bottom; a click on a header by its label.
  const names = () => [...document.querySelectorAll('#tw-modules tbody tr')].map((tr) => tr.children[1].textContent.replace(/\u00a0/g, ''));
  const header = (label) => need([...document.querySelectorAll('#tw-modules th')].find((th) => th.textContent === label), 'header ' + label);

  // Step timeline: the step shown below the chart, its title and its spans' names and durations.
  const detail = () => {
    const box = need(document.getElementById('tw-step-detail'), 'step detail');
    const spans = [...box.querySelectorAll('g.span')];
    return { step: Number(box.dataset.step), title: box.querySelector('h3').textContent, note: [...box.querySelectorAll('p.note')].map((p) => p.textContent).join(' '),
      names: spans.map((g) => g.getAttribute('data-name')), durations: spans.map((g) => Number(g.getAttribute('data-dur'))) };
  };
  const bar = (step) => need(document.querySelector('#tw-step-chart rect.bar[data-step="' + step + '"]'), 'bar of step ' + step);

  function run() {
    try {
      out.flame = [flame()];
      click(frame('fc1'));
      out.flame.push(flame());
      click(frame('fc1'));
      out.flame.push(flame());
      click(frame('all modules'));
      out.flame.push(flame());

      out.table = [names()];
      for (const label of ['Fwd total', 'Fwd total', 'Module', '#']) { click(header(label)); out.table.push(names()); }

      out.steps = [detail()];
      for (const step of [/*STEPS*/]) { click(bar(step)); out.steps.push(detail()); }
    } catch (e) {
      out.error = String(e && e.stack || e);
    }
    const pre = document.createElement('pre');
    pre.id = 'tw-selftest';
    pre.textContent = JSON.stringify(out);
    document.body.append(pre);
    document.documentElement.dataset.selftest = 'done';
  }

  const wait = () => {
    const state = document.documentElement.dataset.state;
    if (state === 'ready') run(); else if (state === 'failed') { out.error = 'the report failed to draw'; run(); } else setTimeout(wait, 20);
  };
  wait();
})();
