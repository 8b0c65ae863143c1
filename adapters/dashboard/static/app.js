// The live page of an ebbtide dashboard: plain browser JavaScript, no build step. It reads the
// control API (status, workers, decisions, series), follows the decision stream (server-sent
// events) and drives manual `scale` and `adapt`. With dashboard.token set, open the page as
// /?access_token=TOKEN: the token is sent as a bearer token on every request.
(function () {
  'use strict';
  const token = new URLSearchParams(location.search).get('access_token') || '';
  const headers = token ? { authorization: 'Bearer ' + token } : {};
  const MAX_DECISIONS = 300;

  const $ = (id) => document.getElementById(id);
  const state = { status: null, entries: new Map(), lastTick: 0, data: [[], [], [], [], []], stopped: false };

  async function api(path, options) {
    const res = await fetch(path, { ...options, headers: { ...headers, ...((options && options.headers) || {}) } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((body.error && body.error.message) || 'HTTP ' + res.status);
    return body;
  }

  function fmtBytes(n) {
    const units = [['PiB', 2 ** 50], ['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['kiB', 2 ** 10]];
    for (const [u, s] of units) if (n >= s * 0.9) return (n / s).toFixed(2) + ' ' + u;
    return n + ' B';
  }
  function fmtAge(s) {
    if (s < 90) return Math.round(s) + 's';
    if (s < 5400) return Math.round(s / 60) + 'm';
    return (s / 3600).toFixed(1) + 'h';
  }
  function clock(t) {
    return t === undefined ? '?' : new Date(t * 1000).toISOString().slice(11, 19);
  }
  const inf = (v) => (v === 'inf' || v === Infinity ? 'inf' : String(v));

  // ---- chart: workers (observed, requested, target) and demand over time --------------------
  const chartEl = $('chart');
  const chart = new uPlot(
    {
      width: Math.max(400, chartEl.clientWidth || 800),
      height: 280,
      scales: { x: { time: true }, workers: { range: (u, min, max) => [0, Math.max(4, max + 1)] }, tasks: { range: (u, min, max) => [0, Math.max(4, max)] } },
      axes: [{}, { scale: 'workers', label: 'workers' }, { scale: 'tasks', side: 1, label: 'tasks', grid: { show: false } }],
      series: [
        {},
        { label: 'connected', scale: 'workers', stroke: '#1f5fa8', width: 2, paths: uPlot.paths.stepped({ align: 1 }) },
        { label: 'requested', scale: 'workers', stroke: '#7aa6d6', dash: [4, 3], paths: uPlot.paths.stepped({ align: 1 }) },
        { label: 'target', scale: 'workers', stroke: '#e07b00', width: 1.5, paths: uPlot.paths.stepped({ align: 1 }) },
        { label: 'demand (tasks)', scale: 'tasks', stroke: '#8a8f96', fill: 'rgba(138,143,150,0.15)' },
      ],
    },
    state.data,
    chartEl,
  );
  window.addEventListener('resize', () => chart.setSize({ width: Math.max(400, chartEl.clientWidth), height: 280 }));
  // For tests and curious users: what the chart shows.
  window.ebbtide = { chart, state };

  function addPoint(d) {
    if (!d.inputs || d.time === undefined) return;
    const [t] = state.data;
    if (t.length && d.time <= t[t.length - 1]) return;
    const row = [d.time, d.inputs.workers, d.inputs.requested, d.safeTarget, d.inputs.tasksQueued + d.inputs.tasksUnrunnable + d.inputs.tasksProcessing];
    row.forEach((v, i) => state.data[i].push(v));
    if (t.length > 3600) state.data.forEach((c) => c.shift());
    chart.setData(state.data);
  }

  async function loadSeries() {
    const s = await api('api/series');
    state.data = [s.t, s.observed, s.requested, s.safeTarget, s.t.map((_, i) => s.queued[i] + s.processing[i])];
    chart.setData(state.data);
  }

  // ---- status and workers -------------------------------------------------------------------
  function showStatus(s) {
    state.status = s;
    $('repr').textContent = s.repr;
    const mode = $('mode');
    mode.textContent = s.mode === 'manual' ? 'manual: ' + s.manual.n + ' workers' : 'adaptive';
    mode.className = 'badge ' + s.mode;
    mode.dataset.mode = s.mode;
    const health = $('health');
    health.textContent = state.stopped ? 'stopped' : s.blind ? 'blind: scheduler unreachable' : s.capacityLimited ? 'capacity-limited' : '';
    health.className = 'badge' + (state.stopped || s.blind || s.capacityLimited ? ' bad' : '');
    health.style.display = health.textContent ? '' : 'none';
    $('workers-count').textContent = s.workers;
    $('requested-count').textContent = s.requested.length;
    $('queued-count').textContent = s.tasks.queued + s.tasks.unrunnable;
    $('processing-count').textContent = s.tasks.processing;
    $('bounds').textContent = '[' + s.adaptive.minimum + ', ' + inf(s.adaptive.maximum) + ']';
  }

  function showWorkers(list) {
    const body = $('workers').querySelector('tbody');
    body.replaceChildren(
      ...list.map((w) => {
        const tr = document.createElement('tr');
        tr.dataset.name = w.name;
        tr.dataset.state = w.state;
        if (!w.managed) tr.className = 'external';
        const cells = [w.name, w.state + (w.reason && !w.connected ? ' (' + w.reason + ')' : ''), w.threads, w.memoryLimit ? fmtBytes(w.memoryLimit) : 'none', fmtBytes(w.nbytes), w.tasks, w.pool || '–', fmtAge(w.age)];
        cells.forEach((c, i) => {
          const td = document.createElement('td');
          td.textContent = c;
          if (i >= 2 && i !== 6) td.className = 'num';
          tr.appendChild(td);
        });
        return tr;
      }),
    );
  }

  let refreshTimer = null;
  function refreshSoon() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(async () => {
      refreshTimer = null;
      try {
        const [s, w] = await Promise.all([api('api/status'), api('api/workers')]);
        showStatus(s);
        showWorkers(w.workers);
      } catch (e) {
        if (!state.stopped) $('health').textContent = String(e.message || e);
      }
    }, 300);
  }

  // ---- decision log -------------------------------------------------------------------------
  function summaryOf(entry) {
    const d = entry.decision;
    const r = d.recommendation;
    const o = d.outcome || {};
    let what;
    if (o.status === 'shutdown') what = '<span class="down">shutdown</span>';
    else if (r.status === 'up') what = '<span class="up">▲ up ' + (d.inputs ? d.inputs.plan : '?') + ' → ' + r.n + '</span>';
    else if (r.status === 'down') what = '<span class="down">▼ down ' + r.workers.join(', ') + '</span>';
    else what = 'same';
    const failed = o.status === 'failed' ? ' <span class="failed">failed: ' + escapeHtml((o.error && o.error.message) || '') + '</span>' : '';
    const rule = d.explanation && d.explanation.rule ? ' · ' + escapeHtml(String(d.explanation.rule)) : '';
    const fold = entry.count > 1 ? ' <span class="fold">×' + entry.count + ' (ticks ' + entry.id + '–' + entry.tick + ')</span>' : '';
    return '<span class="tick">#' + entry.tick + ' ' + clock(d.time) + '</span> ' + (d.mode === 'manual' ? '[manual] ' : '') + what + ' target ' + d.safeTarget + rule + failed + fold;
  }
  function escapeHtml(s) {
    return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
  }

  function upsert(entry) {
    state.lastTick = Math.max(state.lastTick, entry.tick);
    const list = $('decisions');
    let el = state.entries.get(entry.id);
    if (!el) {
      el = document.createElement('details');
      el.addEventListener('toggle', () => el.open && explain(el));
      list.prepend(el);
      state.entries.set(entry.id, el);
      while (list.children.length > MAX_DECISIONS) {
        const last = list.lastElementChild;
        state.entries.delete(Number(last.dataset.id));
        last.remove();
      }
    }
    el.dataset.id = entry.id;
    el.dataset.tick = entry.tick;
    el.dataset.status = entry.decision.recommendation.status;
    el.dataset.outcome = (entry.decision.outcome && entry.decision.outcome.status) || '';
    const open = el.open;
    el.innerHTML = '<summary>' + summaryOf(entry) + '</summary><ul class="reasons"></ul>';
    el.open = open;
    if (open) explain(el);
  }

  async function explain(el) {
    try {
      const r = await api('api/decisions/' + el.dataset.tick);
      const ul = el.querySelector('ul.reasons');
      ul.replaceChildren(
        ...r.explanation.map((line) => {
          const li = document.createElement('li');
          li.textContent = line;
          return li;
        }),
      );
      el.dataset.explained = 'true';
    } catch (e) {
      el.querySelector('ul.reasons').textContent = String(e.message || e);
    }
  }

  function showTarget(d) {
    if (!d.outcome || d.outcome.status !== 'shutdown') $('target-count').textContent = d.safeTarget;
  }

  // ---- live stream --------------------------------------------------------------------------
  function follow() {
    const url = 'api/decisions/stream?since=' + state.lastTick + (token ? '&access_token=' + encodeURIComponent(token) : '');
    const source = new EventSource(url);
    source.addEventListener('decision', (ev) => {
      const entry = JSON.parse(ev.data);
      upsert(entry);
      addPoint(entry.decision);
      showTarget(entry.decision);
      refreshSoon();
    });
    source.addEventListener('end', () => {
      state.stopped = true;
      source.close();
      if (state.status) showStatus(state.status);
    });
  }

  // ---- controls -----------------------------------------------------------------------------
  function say(text, error) {
    const m = $('control-message');
    m.textContent = text;
    m.className = error ? 'error' : '';
  }
  $('scale-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const n = Number($('scale-n').value);
    try {
      const s = await api('api/scale', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) });
      say('manual: holding ' + s.n + ' worker(s)');
      refreshSoon();
    } catch (e) {
      say(String(e.message || e), true);
    }
  });
  $('adapt-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {};
    const min = $('adapt-min').value.trim();
    const max = $('adapt-max').value.trim();
    if (min !== '') body.minimum = Number(min);
    if (max !== '') body.maximum = max === 'inf' ? 'inf' : Number(max);
    try {
      const s = await api('api/adapt', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      say('adaptive within [' + s.minimum + ', ' + inf(s.maximum) + ']');
      refreshSoon();
    } catch (e) {
      say(String(e.message || e), true);
    }
  });

  // ---- start --------------------------------------------------------------------------------
  (async function start() {
    try {
      const [s, w, d] = await Promise.all([api('api/status'), api('api/workers'), api('api/decisions')]);
      showStatus(s);
      showWorkers(w.workers);
      for (const e of d.decisions) upsert(e);
      if (d.decisions.length) showTarget(d.decisions[d.decisions.length - 1].decision);
      state.lastTick = d.last;
      await loadSeries();
    } catch (e) {
      $('repr').textContent = 'cannot read the control API: ' + (e.message || e);
    }
    follow();
  })();
})();
