'use strict';
// failmail console: plain DOM, no framework. Every piece of message content is put on the
// page with textContent (never innerHTML): subjects and bodies are hostile input.
(() => {
  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem('failmail-token') || '';
  let batches = [];
  let events = null;

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function button(label, action, testid) {
    const b = el('button', label);
    b.type = 'button';
    if (testid) b.dataset.testid = testid;
    b.addEventListener('click', action);
    return b;
  }
  function fail(message) {
    const box = $('error');
    box.textContent = message;
    box.hidden = !message;
  }
  async function api(method, path, body) {
    const headers = {};
    if (token) headers.Authorization = 'Bearer ' + token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch('/api/v1/' + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.status === 401) {
      $('token-form').hidden = false;
      throw new Error('this failmail needs an API token');
    }
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }
  function when(iso) {
    const d = new Date(iso);
    return isNaN(d) ? '' : d.toLocaleString();
  }
  function size(n) {
    return n >= 1048576 ? (n / 1048576).toFixed(1) + ' MB' : n >= 1024 ? (n / 1024).toFixed(1) + ' kB' : n + ' B';
  }
  function countdown(iso) {
    const s = Math.max(0, Math.round((new Date(iso) - Date.now()) / 1000));
    return s >= 3600 ? Math.floor(s / 3600) + 'h ' + Math.floor(s % 3600 / 60) + 'm' : s >= 60 ? Math.floor(s / 60) + 'm ' + (s % 60) + 's' : s + 's';
  }
  function fill(id, rows, make) {
    const body = $(id).tBodies[0];
    body.replaceChildren(...rows.map(make));
    $(id + '-empty').hidden = rows.length > 0;
    $(id).hidden = rows.length === 0;
  }

  function sparkline(rate) {
    const svg = $('sparkline');
    const max = Math.max(1, ...rate);
    const points = rate.map((v, i) => (i * 240 / Math.max(1, rate.length - 1)).toFixed(1) + ',' + (38 - v / max * 36).toFixed(1)).join(' ');
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    line.setAttribute('points', points);
    svg.replaceChildren(line);
    const last = rate.length ? rate[rate.length - 1] : 0;
    $('rate-caption').textContent = last + ' messages this minute, peak ' + Math.max(0, ...rate) + '/min in the last hour';
  }

  function showStatus(s) {
    $('status').textContent = s.activeBatches + ' open batches · ' + s.messagesReceived + ' received · ' + s.digestsSent +
      ' digests sent · ' + s.queueLength + ' queued · ' + s.silenced + ' silenced';
    sparkline(s.rate || []);
  }

  function batchRow(b) {
    const tr = el('tr');
    tr.dataset.batchId = b.id;
    tr.append(el('td', b.recipient), el('td', b.batchKey || '—'), el('td', b.count, 'num batch-count'));
    const groups = el('td', null, 'subject');
    for (const g of b.groups.slice(0, 5)) groups.append(el('div', g.count + ' × ' + g.subject));
    if (b.groups.length > 5) groups.append(el('div', '… ' + (b.groups.length - 5) + ' more groups'));
    const due = el('td', countdown(b.sendAt), 'countdown');
    due.dataset.sendAt = b.sendAt;
    const actions = el('td');
    actions.append(button('Flush', () => flush(b.id), 'flush'), ' ', button('Silence', () => prefill(b), 'silence'));
    tr.append(groups, due, actions);
    return tr;
  }
  function silenceRow(s) {
    const tr = el('tr');
    const state = s.status ? s.status.state : '';
    const matchers = s.matchers.map(m => m.name + (m.isEqual ? (m.isRegex ? '=~' : '=') : (m.isRegex ? '!~' : '!=')) + JSON.stringify(m.value)).join(', ');
    tr.append(el('td', state, 'state-' + state), el('td', matchers, 'subject'), el('td', when(s.endsAt)), el('td', s.createdBy), el('td', s.comment, 'subject'));
    const actions = el('td');
    if (state !== 'expired') actions.append(button('Expire', () => expire(s.id), 'expire'));
    tr.append(actions);
    return tr;
  }
  function digestRow(d) {
    const tr = el('tr', null, 'clickable');
    tr.dataset.digestId = d.id;
    tr.append(el('td', when(d.time)), el('td', d.recipient), el('td', d.subject, 'subject'), el('td', size(d.size), 'num'),
      el('td', d.target || '—'), el('td', d.outcome, 'outcome-' + d.outcome));
    tr.addEventListener('click', () => openDigest(d.id));
    return tr;
  }
  function queueRow(q) {
    const tr = el('tr');
    tr.append(el('td', q.id), el('td', q.recipients), el('td', q.attempts, 'num'), el('td', q.nextRetry ? when(q.nextRetry) : 'now'), el('td', q.lastError, 'subject'));
    return tr;
  }
  function failedRow(f) {
    const tr = el('tr');
    const actions = el('td');
    actions.append(button('Resend', () => resend(f.id), 'resend'));
    tr.append(el('td', when(f.time)), el('td', f.to), el('td', f.subject, 'subject'), el('td', size(f.size), 'num'), actions);
    return tr;
  }

  async function refresh() {
    try {
      const [status, open, silences, digests, queue, failed] = await Promise.all([
        api('GET', 'status'), api('GET', 'batches'), api('GET', 'silences'), api('GET', 'digests?limit=50'), api('GET', 'queue'), api('GET', 'failed?limit=100')]);
      batches = open;
      showStatus(status);
      $('batches-count').textContent = '(' + open.length + ')';
      fill('batches', open, batchRow);
      silences.sort((a, b) => (a.status.state === 'expired') - (b.status.state === 'expired') || new Date(b.endsAt) - new Date(a.endsAt));
      fill('silences', silences, silenceRow);
      fill('digests', digests, digestRow);
      fill('queue', queue, queueRow);
      fill('failed', failed, failedRow);
      fail('');
    } catch (e) {
      fail(e.message);
    }
  }
  async function act(promise) {
    try { await promise; fail(''); } catch (e) { fail(e.message); }
    await refresh();
  }
  const flush = (id) => act(api('POST', 'batches/' + id + '/flush'));
  const expire = (id) => act(api('DELETE', 'silences/' + encodeURIComponent(id)));
  const resend = (id) => act(api('POST', 'failed/' + encodeURIComponent(id) + '/resend'));
  function prefill(b) {
    $('silence-name').value = 'subject';
    $('silence-header').hidden = true;
    $('silence-value').value = b.groups.length ? b.groups[0].subject : b.batchKey;
    $('silence-regex').checked = false;
    $('silence-comment').value = 'silenced from the console';
    $('silence-value').focus();
  }
  async function openDigest(id) {
    try {
      const d = await api('GET', 'digests/' + encodeURIComponent(id));
      $('digest-title').textContent = d.subject + ' → ' + d.recipient + ' (' + d.outcome + (d.error ? ': ' + d.error : '') + ')';
      $('digest-text').textContent = d.text || '';
      $('digest-view').hidden = false;
    } catch (e) { fail(e.message); }
  }

  $('digest-close').addEventListener('click', () => { $('digest-view').hidden = true; });
  $('silence-name').addEventListener('change', () => { $('silence-header').hidden = $('silence-name').value !== 'header:'; });
  $('silence-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    let name = $('silence-name').value;
    if (name === 'header:') name += $('silence-header').value.trim();
    const minutes = Number($('silence-duration').value);
    act(api('POST', 'silences', {
      matchers: [{ name, value: $('silence-value').value, isRegex: $('silence-regex').checked, isEqual: true }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + minutes * 60000).toISOString(),
      createdBy: 'console',
      comment: $('silence-comment').value,
    }).then(() => { $('silence-value').value = ''; }));
  });
  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    token = $('token-input').value.trim();
    sessionStorage.setItem('failmail-token', token);
    $('token-form').hidden = true;
    connect();
    refresh();
  });

  // Live updates: server-sent events when no token is needed (EventSource cannot send one),
  // else a poll every 5 s. The countdowns tick locally.
  function connect() {
    if (events) { events.close(); events = null; }
    if (!token && window.EventSource) {
      events = new EventSource('/api/v1/events');
      events.addEventListener('change', (ev) => { try { showStatus(JSON.parse(ev.data)); } catch (_) { /* keep the last */ } refresh(); });
    }
  }
  setInterval(() => {
    for (const td of document.querySelectorAll('td.countdown')) td.textContent = countdown(td.dataset.sendAt);
  }, 1000);
  setInterval(() => { if (!events || events.readyState === 2) refresh(); }, 5000);
  connect();
  refresh();
})();
