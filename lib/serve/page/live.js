// The live view: one tile per camera, each an MJPEG <img> of the annotated frames (boxes, track
// IDs, zones and lines are drawn by the server), with state, rates and latency from the server's
// events. Plain browser JavaScript served as is: no build step, nothing from a CDN.
'use strict';

(() => {
  const TOKEN_KEY = 'int8-detect-token';
  const EVENT_TYPES = ['stream.added', 'stream.removed', 'stream.state', 'stream.stats', 'zone.enter', 'zone.exit', 'line.cross'];
  const grid = document.getElementById('grid');
  const summary = document.getElementById('summary');
  const template = document.getElementById('tile-template');
  const login = document.getElementById('login');
  const tiles = new Map();
  let events;

  // The token may come in the address (?token=...): keep it for this tab only and take it out of
  // the address bar and the history at once.
  const params = new URLSearchParams(location.search);
  if (params.has('token')) {
    sessionStorage.setItem(TOKEN_KEY, params.get('token'));
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : '') + location.hash);
  }
  const token = () => sessionStorage.getItem(TOKEN_KEY) || '';

  /** A URL of this server, with the token as a query parameter where no header can be sent. */
  function withToken(path, extra) {
    const query = new URLSearchParams(extra || {});
    if (token()) query.set('token', token());
    const q = query.toString();
    return q ? `${path}?${q}` : path;
  }

  async function api(path) {
    const headers = token() ? { authorization: `Bearer ${token()}` } : {};
    const response = await fetch(path, { headers, cache: 'no-store' });
    if (response.status === 401) throw Object.assign(new Error('unauthorized'), { status: 401 });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  const fmt = (v, digits) => (v === null || v === undefined || Number.isNaN(v) ? '–' : Number(v).toFixed(digits));

  function describeCounts(counts) {
    const parts = [];
    const byClass = (c) => Object.entries(c).map(([label, n]) => `${n} ${label}`).join(', ') || '0';
    for (const [id, z] of Object.entries(counts.zones || {})) parts.push(`${id}: ${byClass(z.inside)} inside, ${byClass(z.entered)} entered`);
    for (const [id, l] of Object.entries(counts.lines || {})) parts.push(`${id}: in ${byClass(l.in)} · out ${byClass(l.out)}`);
    return parts.join(' — ');
  }

  function setState(tile, state) {
    const badge = tile.querySelector('.state');
    badge.textContent = state;
    badge.className = `state ${state}`;
    tile.dataset.state = state;
    updateSummary();
  }

  function setStats(tile, s) {
    tile.querySelector('.fps-in').textContent = fmt(s.fpsIn, 1);
    tile.querySelector('.fps-done').textContent = fmt(s.fpsProcessed, 1);
    tile.querySelector('.latency').textContent = s.latencyP50Ms === null || s.latencyP50Ms === undefined ? '–' : `${fmt(s.latencyP50Ms, 0)} ms`;
    tile.querySelector('.dropped').textContent = fmt(s.dropped, 0);
  }

  function addTile(info) {
    if (tiles.has(info.id)) return;
    const tile = template.content.firstElementChild.cloneNode(true);
    tile.dataset.stream = info.id;
    tile.querySelector('h2').textContent = info.id;
    const img = tile.querySelector('img');
    img.alt = `camera ${info.id}`;
    img.addEventListener('load', () => tile.querySelector('.view').classList.add('live'));
    img.src = withToken(`v1/streams/${encodeURIComponent(info.id)}/live.mjpeg`);
    tile.querySelector('.counts').textContent = describeCounts(info.counts || {});
    setStats(tile, info);
    tiles.set(info.id, tile);
    grid.appendChild(tile);
    setState(tile, info.state);
  }

  function removeTile(id) {
    const tile = tiles.get(id);
    if (!tile) return;
    // Closing the MJPEG connection before the element goes.
    tile.querySelector('img').removeAttribute('src');
    tile.remove();
    tiles.delete(id);
    updateSummary();
  }

  function updateSummary() {
    const all = [...tiles.values()];
    const connected = all.filter((t) => t.dataset.state === 'connected').length;
    summary.textContent = `${all.length} camera${all.length === 1 ? '' : 's'}, ${connected} connected`;
  }

  const pendingCounts = new Map();
  function refreshCounts(id) {
    if (pendingCounts.has(id)) return;
    pendingCounts.set(
      id,
      setTimeout(async () => {
        pendingCounts.delete(id);
        const tile = tiles.get(id);
        if (!tile) return;
        try {
          tile.querySelector('.counts').textContent = describeCounts(await api(`v1/streams/${encodeURIComponent(id)}/counts`));
        } catch {
          // The stream may have gone meanwhile; its tile goes with the stream.removed event.
        }
      }, 250),
    );
  }

  function listen() {
    events = new EventSource(withToken('v1/events', { types: EVENT_TYPES.join(',') }));
    const on = (type, handler) => events.addEventListener(type, (m) => handler(JSON.parse(m.data)));
    on('stream.added', (e) => e.info && addTile(e.info));
    on('stream.removed', (e) => removeTile(e.stream));
    on('stream.state', (e) => tiles.has(e.stream) && setState(tiles.get(e.stream), e.state));
    on('stream.stats', (e) => {
      const tile = tiles.get(e.stream);
      if (!tile) return;
      setStats(tile, e);
      if (tile.dataset.state !== e.state) setState(tile, e.state);
    });
    for (const type of ['zone.enter', 'zone.exit', 'line.cross']) on(type, (e) => refreshCounts(e.stream));
    // After a reconnect of the event stream, streams may have come or gone meanwhile.
    events.addEventListener('open', () => void sync());
  }

  async function sync() {
    const { streams } = await api('v1/streams');
    const ids = new Set(streams.map((s) => s.id));
    for (const id of [...tiles.keys()]) if (!ids.has(id)) removeTile(id);
    for (const s of streams) {
      if (!tiles.has(s.id)) addTile(s);
      else setState(tiles.get(s.id), s.state);
    }
    updateSummary();
  }

  function askForToken(message) {
    login.hidden = false;
    grid.hidden = true;
    summary.textContent = 'locked';
    login.querySelector('#login-error').textContent = message || '';
    login.querySelector('#token').focus();
  }

  login.addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, login.querySelector('#token').value);
    void start();
  });

  async function start() {
    try {
      await sync();
    } catch (err) {
      if (err.status === 401) return askForToken(token() ? 'That token was refused.' : '');
      summary.textContent = `cannot reach the server (${err.message})`;
      return;
    }
    login.hidden = true;
    grid.hidden = false;
    if (!events) listen();
  }

  void start();
})();
