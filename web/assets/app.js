/*
 * ntlmscope dashboard. Reads the JSON API of the server it came from; keeps the page, the
 * time range, filters, sort and page in the URL (#/page?since=…), so a link reproduces the
 * view. Every value from the data is put in the page as text (textContent, attributes set
 * one by one), never as markup. Charts are SVG drawn here; nothing loads from elsewhere.
 */
'use strict';

(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const PAGE_SIZE = 50;
  const fmt = new Intl.NumberFormat('en-US');

  /* ---------------------------------------------------------------------------------------- */
  /* DOM helpers: text only                                                                    */
  /* ---------------------------------------------------------------------------------------- */

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  const num = (n) => (n === null || n === undefined ? '—' : fmt.format(n));
  const when = (t) => (t ? t.slice(0, 19).replace('T', ' ') : '—');
  const dash = (v) => (v === null || v === undefined || v === '' ? '—' : String(v));

  /* ---------------------------------------------------------------------------------------- */
  /* Dates (UTC, YYYY-MM-DD)                                                                   */
  /* ---------------------------------------------------------------------------------------- */

  const today = () => new Date().toISOString().slice(0, 10);
  function addDays(day, n) {
    const d = new Date(day + 'T00:00:00Z');
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }
  const dayNumber = (day) => Math.round(Date.parse(day + 'T00:00:00Z') / 86400000);

  /* ---------------------------------------------------------------------------------------- */
  /* State in the URL                                                                          */
  /* ---------------------------------------------------------------------------------------- */

  function state() {
    const h = location.hash.replace(/^#\/?/, '');
    const i = h.indexOf('?');
    const page = (i < 0 ? h : h.slice(0, i)) || 'overview';
    return { page, params: new URLSearchParams(i < 0 ? '' : h.slice(i + 1)) };
  }

  function go(page, params) {
    const qs = params.toString();
    location.hash = '#/' + page + (qs ? '?' + qs : '');
  }

  /* since/until of the page; the default is the last 30 days */
  function range(params) {
    if (params.get('range') === 'all') return { since: null, until: null };
    const until = params.get('until') || today();
    return { since: params.get('since') || addDays(until, -29), until };
  }

  function rangeParams(params) {
    const r = range(params);
    const p = new URLSearchParams();
    if (r.since) p.set('since', r.since);
    if (r.until) p.set('until', r.until);
    return p;
  }

  /* ---------------------------------------------------------------------------------------- */
  /* The API                                                                                    */
  /* ---------------------------------------------------------------------------------------- */

  function viewUrl(view, p, format) {
    const q = new URLSearchParams(p);
    if (format) q.set('format', format);
    return '/api/v1/views/' + encodeURIComponent(view) + '?' + q.toString();
  }

  async function api(view, p) {
    const res = await fetch(viewUrl(view, p), { headers: { Accept: 'application/json' } });
    if (!res.ok) {
      let msg = res.status + ' ' + res.statusText;
      try { msg = (await res.json()).error || msg; } catch (e) { /* keep the status */ }
      throw new Error(view + ': ' + msg);
    }
    const rows = await res.json();
    const total = res.headers.get('X-Total-Count');
    return { rows, total: total === null ? rows.length : Number(total) };
  }

  /* ---------------------------------------------------------------------------------------- */
  /* Classification                                                                            */
  /* ---------------------------------------------------------------------------------------- */

  function accountKind(a) {
    if (!a || /^anonymous/i.test(a) || /^anonymous logon$/i.test(a)) return 'anonymous';
    if (a.endsWith('$')) return 'machine';
    if (/^(svc|srv|sa|service|app|sql|iis)[-_.]/i.test(a) || /[-_.]svc$/i.test(a) || /^svc/i.test(a)) {
      return 'service';
    }
    return 'user';
  }

  const isAnonymous = (r) => accountKind(r.account) === 'anonymous' || r.reason_id === 11;

  const REASONS = {
    0: 'Unknown reason', 1: 'Called directly by the application', 2: 'Local account',
    3: 'Reserved', 4: 'Cloud account', 5: 'Target name missing', 6: 'Target name not resolved',
    7: 'Target is an IP address', 8: 'Duplicate SPN in AD', 9: 'No line of sight to a DC',
    10: 'Loopback', 11: 'Null session',
  };

  /* ---------------------------------------------------------------------------------------- */
  /* Cells                                                                                     */
  /* ---------------------------------------------------------------------------------------- */

  function filterLink(key, value, label) {
    if (value === null || value === undefined || value === '') return el('span', { class: 'muted', text: '—' });
    const p = rangeParams(state().params);
    p.set(key, String(value));
    return el('a', { href: '#/dependencies?' + p.toString(), title: 'Dependencies with ' + key + ' ' + value,
      onclick: (ev) => ev.stopPropagation(), text: label === undefined ? String(value) : label });
  }

  function processLabel(p) {
    if (!p) return null;
    const parts = p.split(/[\\/]/);
    return parts[parts.length - 1] || p;
  }

  const cells = {
    text: (v) => dash(v),
    n: (v) => num(v),
    time: (v) => when(v),
    account: (v, r) => el('span', {}, filterLink('account', v), ' ',
      el('span', { class: 'badge kind', text: accountKind(v) })),
    process: (v) => (v ? el('span', { title: v }, filterLink('process', v, processLabel(v)))
      : el('span', { class: 'muted', text: 'not reported' })),
    client: (v) => filterLink('client', v),
    target: (v) => filterLink('target', v),
    reason: (v) => (v === null || v === undefined ? el('span', { class: 'muted', text: 'not reported' })
      : el('span', { title: REASONS[v] || '' }, String(v) + ' · ' + (REASONS[v] || '?'))),
    version: (v) => (v ? el('span', { class: 'badge ' + (v === 'NTLMv2' ? 'good' : 'bad'), text: v }) : '—'),
  };

  /* ---------------------------------------------------------------------------------------- */
  /* Charts (SVG)                                                                              */
  /* ---------------------------------------------------------------------------------------- */

  /* A line chart of days: one polyline and one circle per day for each series. Days without a
   * row count as zero. */
  function lineChart(rows, series, labels) {
    const box = el('div', { class: 'chart' });
    if (!rows.length) {
      box.append(el('p', { class: 'empty', text: 'No NTLM activity in this range.' }));
      return box;
    }
    const first = dayNumber(rows[0].day), last = dayNumber(rows[rows.length - 1].day);
    const byDay = new Map(rows.map((r) => [dayNumber(r.day), r]));
    const days = [];
    for (let d = first; d <= last; d++) days.push(d);
    const W = 900, H = 260, L = 56, R = 12, T = 12, B = 30;
    let max = 1;
    for (const d of days) for (const s of series) max = Math.max(max, (byDay.get(d) || {})[s] || 0);
    const x = (i) => L + (days.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (days.length - 1));
    const y = (v) => T + (H - T - B) * (1 - v / max);
    const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': labels.title });
    for (let k = 0; k <= 4; k++) {
      const v = (max * k) / 4;
      s.append(svg('line', { class: 'gridline', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      s.append(svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmt.format(Math.round(v))));
    }
    s.append(svg('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }));
    const step = Math.max(1, Math.ceil(days.length / 8));
    days.forEach((d, i) => {
      if ((i % step === 0 && (days.length - 1 - i >= step / 2 || i === 0)) || i === days.length - 1) {
        const label = new Date(d * 86400000).toISOString().slice(5, 10);
        s.append(svg('text', { x: x(i), y: H - 10, 'text-anchor': 'middle' }, label));
      }
    });
    for (const name of [...series].reverse()) {
      const g = svg('g', { class: 'series s-' + name, 'data-series': name });
      const pts = days.map((d, i) => x(i).toFixed(1) + ',' + y((byDay.get(d) || {})[name] || 0).toFixed(1));
      g.append(svg('polyline', { class: 'line s-' + name, points: pts.join(' ') }));
      days.forEach((d, i) => {
        const v = (byDay.get(d) || {})[name] || 0;
        const c = svg('circle', { class: 'point', cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: days.length > 60 ? 1.5 : 2.5 });
        c.append(svg('title', {}, new Date(d * 86400000).toISOString().slice(0, 10) + ': ' + fmt.format(v) + ' ' + labels[name]));
        g.append(c);
      });
      s.append(g);
    }
    box.append(s);
    box.append(el('div', { class: 'legend' }, ...series.map((n) =>
      el('span', {}, el('i', { class: 'swatch s-' + n }), labels[n]))));
    return box;
  }

  /* Horizontal bars, one per row. */
  function barChart(rows, labelOf, valueKey) {
    const box = el('div', { class: 'chart' });
    if (!rows.length) {
      box.append(el('p', { class: 'empty', text: 'No NTLM activity in this range.' }));
      return box;
    }
    const W = 900, rowH = 24, L = 300, H = rows.length * rowH + 8;
    const max = Math.max(1, ...rows.map((r) => r[valueKey] || 0));
    const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Events by ' + valueKey });
    rows.forEach((r, i) => {
      const w = ((W - L - 90) * (r[valueKey] || 0)) / max;
      s.append(svg('text', { x: L - 8, y: i * rowH + 17, 'text-anchor': 'end' }, labelOf(r)));
      const bar = svg('rect', { class: 'bar' + (r.reason_id === null ? ' none' : ''), x: L, y: i * rowH + 5, width: Math.max(1, w).toFixed(1), height: rowH - 8 });
      bar.append(svg('title', {}, labelOf(r) + ': ' + fmt.format(r[valueKey])));
      s.append(bar);
      s.append(svg('text', { x: L + w + 6, y: i * rowH + 17 }, fmt.format(r[valueKey])));
    });
    box.append(s);
    return box;
  }

  /* ---------------------------------------------------------------------------------------- */
  /* Tables                                                                                    */
  /* ---------------------------------------------------------------------------------------- */

  /* A table of rows. cols: {key, label, cell, n}. opts: {sortable, sort, desc, onSort, onRow} */
  function table(rows, cols, opts) {
    opts = opts || {};
    const head = el('tr', {}, ...cols.map((c) => {
      const th = el('th', { class: (c.n ? 'n ' : '') + (opts.sortable ? 'sortable' : ''), scope: 'col', 'data-key': c.key }, c.label);
      if (opts.sortable) {
        if (opts.sort === c.key) th.append(el('span', { class: 'arrow', text: opts.desc ? ' ▼' : ' ▲' }));
        th.addEventListener('click', () => opts.onSort(c.key));
      }
      return th;
    }));
    const body = el('tbody');
    if (!rows.length) {
      body.append(el('tr', {}, el('td', { colspan: cols.length, class: 'empty', text: 'No NTLM activity matches.' })));
    }
    for (const r of rows) {
      const tr = el('tr', { class: opts.onRow ? 'click' : null });
      for (const c of cols) {
        const v = r[c.key];
        const content = (c.cell || (c.n ? cells.n : cells.text))(v, r);
        tr.append(el('td', { class: c.n ? 'n' : null }, content));
      }
      if (opts.onRow) tr.addEventListener('click', () => opts.onRow(r, tr));
      body.append(tr);
    }
    return el('table', {}, el('thead', {}, head), body);
  }

  function downloads(view, p) {
    return el('span', { class: 'downloads' },
      el('a', { class: 'btn', href: viewUrl(view, p, 'csv'), download: 'ntlmscope-' + view + '.csv', text: 'CSV' }),
      el('a', { class: 'btn', href: viewUrl(view, p, 'json'), download: 'ntlmscope-' + view + '.json', text: 'JSON' }));
  }

  const FILTERS = ['client', 'account', 'domain', 'process', 'target', 'service', 'reason_id', 'version', 'computer'];

  /* A searchable, sortable, paged table over a view, its state in the URL. */
  async function tablePage(main, spec) {
    const { page, params } = state();
    const p = rangeParams(params);
    const sort = params.get('sort') || '';
    const desc = params.get('dir') === 'desc';
    const offset = Math.max(0, Number(params.get('page') || 1) - 1) * PAGE_SIZE;
    for (const f of FILTERS) if (params.has(f)) p.set(f, params.get(f));
    if (params.get('q')) p.set('q', params.get('q'));
    if (sort) { p.set('sort', sort); p.set('dir', desc ? 'desc' : 'asc'); }
    p.set('limit', String(PAGE_SIZE));
    p.set('offset', String(offset));

    main.append(el('h1', { text: spec.title }), el('p', { class: 'lead', text: spec.lead }));
    const panel = el('section', { class: 'panel' });
    main.append(panel);

    const setParam = (k, v) => {
      const np = new URLSearchParams(params);
      if (v === null || v === '') np.delete(k); else np.set(k, v);
      if (k !== 'page') np.delete('page');
      go(page, np);
    };
    const search = el('input', { type: 'search', placeholder: 'Search ' + spec.title.toLowerCase() + '…', 'aria-label': 'Search', value: params.get('q') || '' });
    search.addEventListener('change', () => setParam('q', search.value.trim()));
    const bar = el('div', { class: 'toolbar' }, search);
    if (spec.reasonFilter) {
      const sel = el('select', { 'aria-label': 'Reason' }, el('option', { value: '', text: 'Any reason' }),
        ...Object.entries(REASONS).map(([id, t]) => el('option', { value: id, text: id + ' · ' + t })));
      sel.value = params.get('reason_id') || '';
      sel.addEventListener('change', () => setParam('reason_id', sel.value));
      const ver = el('select', { 'aria-label': 'NTLM version' }, el('option', { value: '', text: 'Any version' }),
        ...['NTLMv2', 'NTLMv1', 'LM'].map((v) => el('option', { value: v, text: v })));
      ver.value = params.get('version') || '';
      ver.addEventListener('change', () => setParam('version', ver.value));
      bar.append(sel, ver);
    }
    for (const f of FILTERS) {
      if (!params.has(f) || (spec.reasonFilter && (f === 'reason_id' || f === 'version'))) continue;
      bar.append(el('span', { class: 'chip', 'data-filter': f }, f + ' = ' + (params.get(f) || '(none)'),
        el('button', { type: 'button', 'aria-label': 'Remove filter ' + f, text: '×', onclick: () => setParam(f, null) })));
    }
    bar.append(downloads(spec.view, p));
    panel.append(bar);

    const { rows, total } = await api(spec.view, p);
    const drill = el('section', { class: 'panel drill', hidden: 'hidden', id: 'drill' });
    panel.append(table(rows, spec.columns, {
      sortable: true, sort, desc,
      onSort: (k) => {
        const np = new URLSearchParams(params);
        np.set('sort', k);
        np.set('dir', sort === k && !desc ? 'desc' : 'asc');
        np.delete('page');
        go(page, np);
      },
      onRow: spec.onRow ? (r, tr) => spec.onRow(r, tr, drill) : null,
    }));
    const pageNo = offset / PAGE_SIZE + 1, pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    panel.append(el('div', { class: 'pager' },
      el('button', { class: 'btn', type: 'button', disabled: pageNo <= 1 ? 'disabled' : null, text: '‹ Previous', onclick: () => setParam('page', String(pageNo - 1)) }),
      el('span', { class: 'muted', id: 'count', text: total ? `rows ${num(offset + 1)}–${num(offset + rows.length)} of ${num(total)} · page ${pageNo} of ${pages}` : 'no rows' }),
      el('button', { class: 'btn', type: 'button', disabled: pageNo >= pages ? 'disabled' : null, text: 'Next ›', onclick: () => setParam('page', String(pageNo + 1)) })));
    main.append(drill);
  }

  /* The raw events behind a dependency row. */
  async function drillDown(row, tr, box) {
    for (const s of document.querySelectorAll('tr.selected')) s.classList.remove('selected');
    tr.classList.add('selected');
    const p = rangeParams(state().params);
    const keys = { client: 'client', account: 'account', domain: 'domain', process: 'process', target: 'target', service: 'target_service', reason_id: 'reason_id', version: 'ntlm_version' };
    for (const [f, k] of Object.entries(keys)) p.set(f, row[k] === null || row[k] === undefined ? '' : String(row[k]));
    p.set('limit', '100');
    p.set('dir', 'desc');
    box.replaceChildren(el('h2', { text: 'Events behind this dependency' }), el('p', { class: 'muted', text: 'Loading…' }));
    box.hidden = false;
    const { rows } = await api('events', p);
    box.replaceChildren(
      el('div', { class: 'toolbar' }, el('h2', { text: `Events behind this dependency (${rows.length === 100 ? 'latest 100' : num(rows.length)})` }), downloads('events', p)),
      table(rows, [
        { key: 'time_created', label: 'Time', cell: cells.time },
        { key: 'event_id', label: 'Event' },
        { key: 'computer', label: 'Logged by' },
        { key: 'role', label: 'Role' },
        { key: 'outcome', label: 'Outcome' },
        { key: 'account', label: 'Account' },
        { key: 'client_machine', label: 'Client' },
        { key: 'target_machine', label: 'Target' },
        { key: 'target_service', label: 'Service' },
        { key: 'ntlm_version', label: 'NTLM', cell: cells.version },
        { key: 'mic', label: 'MIC' },
        { key: 'status', label: 'Status' },
      ]));
    box.scrollIntoView({ block: 'nearest' });
  }

  /* ---------------------------------------------------------------------------------------- */
  /* Pages                                                                                     */
  /* ---------------------------------------------------------------------------------------- */

  const DEP_COLUMNS = [
    { key: 'client', label: 'Client', cell: cells.client },
    { key: 'client_ip', label: 'Client IP' },
    { key: 'account', label: 'Account', cell: cells.account },
    { key: 'domain', label: 'Domain' },
    { key: 'process', label: 'Process', cell: cells.process },
    { key: 'target', label: 'Target', cell: cells.target },
    { key: 'target_service', label: 'Service' },
    { key: 'target_ip', label: 'Target IP' },
    { key: 'reason_id', label: 'Reason', cell: cells.reason },
    { key: 'ntlm_version', label: 'NTLM', cell: cells.version },
    { key: 'events', label: 'Events', n: true },
    { key: 'first_seen', label: 'First seen', cell: cells.time },
    { key: 'last_seen', label: 'Last seen', cell: cells.time },
  ];

  const pages = {
    overview: { title: 'Overview', render: overview },
    dependencies: { title: 'Dependencies', render: (m) => tablePage(m, {
      view: 'dependencies', title: 'Dependencies', reasonFilter: true, columns: DEP_COLUMNS, onRow: drillDown,
      lead: 'Every client, account and process that still authenticates to a target with NTLM. Click a row for the events behind it.' }) },
    accounts: { title: 'Accounts', render: (m) => tablePage(m, {
      view: 'accounts', title: 'Accounts', lead: 'Who uses NTLM: user, service and machine accounts.',
      columns: [
        { key: 'account', label: 'Account', cell: cells.account }, { key: 'domain', label: 'Domain' },
        { key: 'events', label: 'Events', n: true }, { key: 'ntlmv1_events', label: 'NTLMv1', n: true },
        { key: 'clients', label: 'Clients', n: true }, { key: 'targets', label: 'Targets', n: true },
        { key: 'first_seen', label: 'First seen', cell: cells.time }, { key: 'last_seen', label: 'Last seen', cell: cells.time }] }) },
    processes: { title: 'Processes', render: (m) => tablePage(m, {
      view: 'processes', title: 'Processes', lead: 'Which programs ask for NTLM.',
      columns: [
        { key: 'process', label: 'Process', cell: (v) => (v ? filterLink('process', v) : '—') },
        { key: 'events', label: 'Events', n: true }, { key: 'accounts', label: 'Accounts', n: true },
        { key: 'hosts', label: 'Hosts', n: true }, { key: 'ntlmv1_events', label: 'NTLMv1', n: true }] }) },
    reasons: { title: 'Reasons', render: reasons },
    targets: { title: 'Targets', render: (m) => tablePage(m, {
      view: 'targets', title: 'Targets', lead: 'Where NTLM goes: servers and services.',
      columns: [
        { key: 'target', label: 'Target', cell: cells.target }, { key: 'target_service', label: 'Service' },
        { key: 'target_ip', label: 'IP' }, { key: 'events', label: 'Events', n: true },
        { key: 'accounts', label: 'Accounts', n: true }, { key: 'clients', label: 'Clients', n: true },
        { key: 'ntlmv1_events', label: 'NTLMv1', n: true }] }) },
    clients: { title: 'Clients', render: (m) => tablePage(m, {
      view: 'clients', title: 'Clients', lead: 'Where NTLM comes from: machines and addresses.',
      columns: [
        { key: 'client', label: 'Client', cell: cells.client }, { key: 'client_ip', label: 'IP' },
        { key: 'events', label: 'Events', n: true }, { key: 'accounts', label: 'Accounts', n: true },
        { key: 'targets', label: 'Targets', n: true }, { key: 'ntlmv1_events', label: 'NTLMv1', n: true }] }) },
    ntlmv1: { title: 'NTLMv1', render: ntlmv1 },
    readiness: { title: 'Readiness', render: readiness },
    coverage: { title: 'Coverage', render: (m) => coverage(m) },
  };

  async function overview(main) {
    const { params } = state();
    const r = range(params);
    const weekEnd = r.until || today();
    const wk = (a, b) => new URLSearchParams({ since: addDays(weekEnd, a), until: addDays(weekEnd, b) });
    main.append(el('h1', { text: 'Overview' }),
      el('p', { class: 'lead', text: `This week (${addDays(weekEnd, -6)} to ${weekEnd}) against the week before.` }));
    const [thisWeek, lastWeek, trend, rs, accounts, processes, targets] = await Promise.all([
      api('totals', wk(-6, 0)), api('totals', wk(-13, -7)), api('trend', rangeParams(params)),
      api('reasons', rangeParams(params)),
      api('accounts', withLimit(rangeParams(params), 10)), api('processes', withLimit(rangeParams(params), 10)),
      api('targets', withLimit(rangeParams(params), 10))]);
    const a = thisWeek.rows[0] || {}, b = lastWeek.rows[0] || {};
    const kpis = el('div', { class: 'kpis', id: 'kpis' });
    for (const [k, label] of [['events', 'NTLM events'], ['ntlmv1_events', 'NTLMv1 events'], ['dependencies', 'Dependencies'],
      ['accounts', 'Accounts'], ['clients', 'Clients'], ['targets', 'Targets'], ['hosts', 'Reporting hosts']]) {
      const cur = a[k] || 0, prev = b[k] || 0;
      const diff = cur - prev;
      const pct = prev ? Math.round((100 * diff) / prev) : null;
      const cls = diff > 0 ? 'up' : diff < 0 ? 'down' : 'flat';
      const text = diff === 0 ? 'no change' : (diff > 0 ? '▲ ' : '▼ ') + num(Math.abs(diff)) + (pct === null ? '' : ` (${pct > 0 ? '+' : ''}${pct}%)`);
      kpis.append(el('div', { class: 'kpi', 'data-kpi': k }, el('div', { class: 'label', text: label }),
        el('div', { class: 'value', text: num(cur) }), el('div', { class: 'delta ' + cls, text: text + ' vs last week' })));
    }
    main.append(kpis);
    const trendPanel = el('section', { class: 'panel', id: 'trend' }, el('h2', { text: 'NTLM per day' }),
      lineChart(trend.rows, ['events', 'ntlmv1_events', 'blocked', 'warnings'],
        { title: 'NTLM events per day', events: 'all NTLM', ntlmv1_events: 'NTLMv1', warnings: 'warnings', blocked: 'blocked' }));
    main.append(trendPanel);
    main.append(el('section', { class: 'panel', id: 'reasons-chart' }, el('h2', { text: 'Why NTLM is used' }),
      barChart(rs.rows, (x) => (x.reason_id === null ? 'not reported by the event' : x.reason_id + ' · ' + (REASONS[x.reason_id] || '')), 'events')));
    main.append(el('div', { class: 'grid' },
      el('section', { class: 'panel' }, el('h2', { text: 'Top accounts' }), table(accounts.rows, [
        { key: 'account', label: 'Account', cell: cells.account }, { key: 'events', label: 'Events', n: true },
        { key: 'ntlmv1_events', label: 'NTLMv1', n: true }])),
      el('section', { class: 'panel' }, el('h2', { text: 'Top processes' }), table(processes.rows, [
        { key: 'process', label: 'Process', cell: cells.process }, { key: 'events', label: 'Events', n: true }])),
      el('section', { class: 'panel' }, el('h2', { text: 'Top targets' }), table(targets.rows, [
        { key: 'target', label: 'Target', cell: cells.target }, { key: 'target_service', label: 'Service' },
        { key: 'events', label: 'Events', n: true }]))));
  }

  function withLimit(p, n) {
    p.set('limit', String(n));
    return p;
  }

  async function reasons(main) {
    const p = rangeParams(state().params);
    const { rows } = await api('reasons', p);
    main.append(el('h1', { text: 'Reasons' }),
      el('p', { class: 'lead', text: 'Why NTLM was chosen over Kerberos (the usage reason of the 4020/4021 client events), and what to do about it.' }));
    main.append(el('section', { class: 'panel' }, el('div', { class: 'toolbar' }, el('h2', { text: 'Events by reason' }), downloads('reasons', p)),
      barChart(rows, (x) => (x.reason_id === null ? 'not reported by the event' : x.reason_id + ' · ' + (REASONS[x.reason_id] || '')), 'events')));
    main.append(el('section', { class: 'panel' }, table(rows, [
      { key: 'reason_id', label: 'Id', cell: (v) => (v === null ? '—' : filterLink('reason_id', v, String(v))) },
      { key: 'reason', label: 'Reason' },
      { key: 'events', label: 'Events', n: true }, { key: 'clients', label: 'Clients', n: true }, { key: 'targets', label: 'Targets', n: true },
      { key: 'remediation', label: 'What to do', cell: (v) => el('span', { class: 'remedy', text: v }) }])));
  }

  async function ntlmv1(main) {
    const p = rangeParams(state().params);
    p.set('limit', '2000');
    const { rows, total } = await api('ntlmv1', p);
    const anonymous = rows.filter(isAnonymous), real = rows.filter((r) => !isAnonymous(r));
    main.append(el('h1', { text: 'NTLMv1' }),
      el('p', { class: 'lead', text: 'Every dependency on NTLMv1 or LM. Anonymous (null-session) logons report NTLMv1 without key material; they are shown apart.' }));
    const cols = DEP_COLUMNS.filter((c) => c.key !== 'client_ip');
    const drill = el('section', { class: 'panel drill', hidden: 'hidden', id: 'drill' });
    main.append(el('section', { class: 'panel', id: 'v1-real' },
      el('div', { class: 'toolbar' }, el('h2', { text: `NTLMv1 and LM users (${num(real.length)})` }), downloads('ntlmv1', p)),
      table(real, cols, { onRow: (r, tr) => drillDown(r, tr, drill) })));
    main.append(el('section', { class: 'panel', id: 'v1-anonymous' },
      el('h2', { text: `Anonymous null sessions (${num(anonymous.length)})` }), table(anonymous, cols, { onRow: (r, tr) => drillDown(r, tr, drill) })));
    if (total > rows.length) main.append(el('p', { class: 'muted', text: `Showing ${num(rows.length)} of ${num(total)}: narrow the range.` }));
    main.append(drill);
  }

  async function readiness(main) {
    const { params } = state();
    const p = rangeParams(params);
    const burn = await api('burndown', p);
    main.append(el('h1', { text: 'Readiness' }),
      el('p', { class: 'lead', text: 'For each target: the NTLM dependencies still active in the last 7 days, or how long it has been quiet. A target quiet for a week or more is a candidate for blocking NTLM.' }));
    main.append(el('section', { class: 'panel', id: 'burndown' }, el('h2', { text: 'Active dependencies (7-day window)' }),
      lineChart(burn.rows, ['active_dependencies', 'active_ntlmv1_dependencies'],
        { title: 'Active dependencies per day', active_dependencies: 'active dependencies', active_ntlmv1_dependencies: 'of which NTLMv1' })));
    await tablePage(main, {
      view: 'readiness', title: 'Targets', lead: '',
      columns: [
        { key: 'target', label: 'Target', cell: cells.target },
        { key: 'active_dependencies', label: 'Status', cell: (v, r) => (v > 0
          ? el('span', { class: 'badge bad', text: `${num(v)} active` })
          : el('span', { class: 'badge ' + (r.quiet_days >= 7 ? 'good' : 'warn'), text: `quiet for ${num(r.quiet_days)} day${r.quiet_days === 1 ? '' : 's'}` + (r.quiet_days >= 7 ? ' · ready to block' : '') })) },
        { key: 'dependencies', label: 'Dependencies', n: true }, { key: 'clients', label: 'Clients', n: true },
        { key: 'accounts', label: 'Accounts', n: true }, { key: 'events', label: 'Events', n: true },
        { key: 'ntlmv1_events', label: 'NTLMv1', n: true }, { key: 'last_seen', label: 'Last NTLM', cell: cells.time },
        { key: 'quiet_days', label: 'Quiet days', n: true }],
      onRow: (r) => { const np = rangeParams(params); np.set('target', r.target); go('dependencies', np); },
    });
  }

  async function coverage(main) {
    const { params } = state();
    const p = rangeParams(params);
    p.set('limit', '5000');
    const { rows } = await api('hosts', p);
    const now = Date.now();
    const silent = rows.filter((r) => now - Date.parse(r.last_seen) > 86400000);
    main.append(el('h1', { text: 'Coverage' }),
      el('p', { class: 'lead', text: 'Which hosts send NTLM events, and when each last did. A host silent for more than a day may have lost its export or agent.' }));
    main.append(el('div', { class: 'kpis' },
      el('div', { class: 'kpi' }, el('div', { class: 'label', text: 'Reporting hosts' }), el('div', { class: 'value', text: num(rows.length) })),
      el('div', { class: 'kpi', 'data-kpi': 'silent' }, el('div', { class: 'label', text: 'Silent for more than a day' }), el('div', { class: 'value', text: num(silent.length) }))));
    main.append(el('section', { class: 'panel' }, el('div', { class: 'toolbar' }, el('h2', { text: 'Hosts' }), downloads('hosts', p)),
      table(rows, [
        { key: 'computer', label: 'Host' }, { key: 'roles', label: 'Roles' },
        { key: 'events', label: 'Events', n: true }, { key: 'first_seen', label: 'First event', cell: cells.time },
        { key: 'last_seen', label: 'Last event', cell: cells.time },
        { key: 'last_seen', label: 'Status', cell: (v) => {
          const days = Math.floor((now - Date.parse(v)) / 86400000);
          return days >= 1 ? el('span', { class: 'badge warn', text: `silent ${num(days)} day${days === 1 ? '' : 's'}` })
            : el('span', { class: 'badge good', text: 'reporting' });
        } }])));
  }

  /* ---------------------------------------------------------------------------------------- */
  /* Shell                                                                                     */
  /* ---------------------------------------------------------------------------------------- */

  function renderNav() {
    const { page, params } = state();
    const keep = new URLSearchParams();
    for (const k of ['since', 'until', 'range']) if (params.has(k)) keep.set(k, params.get(k));
    const nav = document.getElementById('nav');
    nav.replaceChildren(...Object.entries(pages).map(([id, pg]) =>
      el('a', { href: '#/' + id + (keep.toString() ? '?' + keep : ''), class: id === page ? 'active' : null, 'data-page': id, text: pg.title })));
    const r = range(params);
    document.getElementById('since').value = r.since || '';
    document.getElementById('until').value = r.until || '';
  }

  function bindRange() {
    const form = document.getElementById('range');
    const update = (since, until) => {
      const { page, params } = state();
      const np = new URLSearchParams(params);
      np.delete('page');
      np.delete('range');
      if (since === null) { np.delete('since'); np.delete('until'); np.set('range', 'all'); }
      else { np.set('since', since); np.set('until', until); }
      go(page, np);
    };
    form.addEventListener('change', () => {
      const s = document.getElementById('since').value, u = document.getElementById('until').value;
      if (s && u && s <= u) update(s, u);
    });
    for (const b of form.querySelectorAll('button[data-days]')) {
      b.addEventListener('click', () => {
        const days = Number(b.dataset.days);
        if (!days) return update(null, null);
        const u = today();
        update(addDays(u, -(days - 1)), u);
      });
    }
    form.addEventListener('submit', (e) => e.preventDefault());
  }

  let renderId = 0;
  async function render() {
    const id = ++renderId;
    const { page } = state();
    renderNav();
    const main = document.getElementById('main');
    const target = el('div', { id: 'page-' + page, 'data-page': page });
    const pg = pages[page];
    try {
      if (!pg) throw new Error('no page "' + page + '"');
      document.title = 'ntlmscope · ' + pg.title;
      await pg.render(target);
      if (id !== renderId) return;
      target.setAttribute('data-ready', '1');
      main.replaceChildren(target);
    } catch (e) {
      if (id !== renderId) return;
      main.replaceChildren(el('div', { class: 'error', role: 'alert', text: 'Could not show this page: ' + e.message }));
    }
  }

  bindRange();
  window.addEventListener('hashchange', render);
  render();
})();
