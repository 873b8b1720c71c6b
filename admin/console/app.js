// hookpipe console: one page, routed by the URL's fragment, speaking the
// admin API (/api/v1/...). Text from the server is only ever set as text
// (textContent), never parsed as HTML.

const main = document.getElementById('main');
let session = null;
let cleanup = [];	// what the current page must stop (event streams)

// --- helpers -----------------------------------------------------------

function h(tag, attrs, ...kids) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === null || v === undefined || v === false)
			continue;
		if (k.startsWith('on'))
			el.addEventListener(k.slice(2), v);
		else if (k === 'class')
			el.className = v;
		else
			el.setAttribute(k, v === true ? '' : v);
	}
	for (const kid of kids.flat()) {
		if (kid === null || kid === undefined || kid === false)
			continue;
		el.append(kid instanceof Node ? kid : String(kid));
	}
	return el;
}

function toast(msg, error) {
	const t = h('div', { class: error ? 'error' : '' }, msg);
	document.getElementById('toast').append(t);
	setTimeout(() => t.remove(), error ? 8000 : 4000);
}

class ApiError extends Error {
	constructor(status, msg) { super(msg); this.status = status; }
}

async function api(method, path, body) {
	const opt = { method, headers: {}, credentials: 'same-origin' };
	if (body !== undefined) {
		opt.headers['Content-Type'] = 'application/json';
		opt.body = JSON.stringify(body);
	}
	if (method !== 'GET' && session)
		opt.headers['X-CSRF-Token'] = session.csrf;
	const r = await fetch('/api/v1/' + path, opt);
	const text = await r.text();
	let d;
	try { d = text ? JSON.parse(text) : {}; } catch { d = { error: text }; }
	if (r.status === 401) {
		session = null;
		showLogin();
	}
	if (!r.ok)
		throw new ApiError(r.status, d.error || ('HTTP ' + r.status));
	return d;
}

function qs(params) {
	const u = new URLSearchParams();
	for (const [k, v] of Object.entries(params))
		if (v !== '' && v !== null && v !== undefined)
			u.set(k, v);
	const s = u.toString();
	return s ? '?' + s : '';
}

function ago(iso) {
	if (!iso)
		return '-';
	const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
	if (s < 60) return s + 's ago';
	if (s < 3600) return Math.floor(s / 60) + 'm ago';
	if (s < 86400) return Math.floor(s / 3600) + 'h ago';
	return Math.floor(s / 86400) + 'd ago';
}

function when(iso) {
	return h('time', { datetime: iso || '', title: iso || '' }, ago(iso));
}

function badge(s) {
	return h('span', { class: 'badge s-' + s }, s);
}

function copyButton(text, label) {
	return h('button', {
		type: 'button', class: 'secondary', 'aria-label': label,
		onclick: async () => {
			try {
				await navigator.clipboard.writeText(text);
				toast('Copied');
			} catch {
				toast('Select the text and copy it', true);
			}
		}
	}, 'Copy');
}

function copyRow(name, text) {
	return h('div', { class: 'copyrow' }, h('strong', {}, name + ':'),
	    h('code', { 'data-copy': name }, text),
	    copyButton(text, 'Copy ' + name));
}

function pretty(v) {
	if (typeof v === 'string') {
		try { return JSON.stringify(JSON.parse(v), null, 2); }
		catch { return v; }
	}
	return JSON.stringify(v, null, 2);
}

function table(headers, rows, empty) {
	if (!rows.length)
		return h('p', { class: 'muted' }, empty || 'Nothing yet.');
	return h('div', { class: 'scroll' }, h('table', {},
	    h('thead', {}, h('tr', {}, headers.map((x) =>
		h('th', { scope: 'col', class: x.startsWith('~') ? 'wide' : '' },
		    x.replace(/^~/, ''))))),
	    h('tbody', {}, rows)));
}

function field(label, input) {
	return h('label', {}, label, input);
}

function formData(form) {
	const d = {};
	for (const el of form.elements) {
		if (!el.name || el.value === '' && el.type !== 'checkbox')
			continue;
		d[el.name] = el.type === 'checkbox' ? el.checked : el.value;
	}
	return d;
}

async function guard(fn) {
	try {
		return await fn();
	} catch (e) {
		if (e.status !== 401)
			toast(e.message, true);
		throw e;
	}
}

function page(title, ...kids) {
	main.replaceChildren(h('h1', {}, title), ...kids.flat());
	document.title = title + ' · hookpipe';
}

function stream(path, onDoc, onEnd) {
	const es = new EventSource('/api/v1/' + path);
	es.onmessage = (m) => {
		let d;
		try { d = JSON.parse(m.data); } catch { d = m.data; }
		onDoc(d);
	};
	es.addEventListener('end', (m) => {
		es.close();
		if (onEnd) onEnd(JSON.parse(m.data));
	});
	es.onerror = () => { if (es.readyState === 2 && onEnd) onEnd(null); };
	cleanup.push(() => es.close());
	return es;
}

// --- login -------------------------------------------------------------

function showLogin() {
	document.getElementById('who').replaceChildren();
	page('Log in',
	    h('section', { class: 'card' },
		h('p', {}, 'Run this on the machine where hookpipe runs, and open ' +
		    'the link it prints (it works once, within 10 minutes):'),
		h('pre', {}, 'hookpipe console'),
		h('p', { class: 'muted' }, 'Scripts use the token in ' +
		    '$HOOKPIPE_HOME/admin.token as Authorization: Bearer.')));
}

async function logout() {
	await fetch('/logout', { method: 'POST', credentials: 'same-origin',
	    headers: { 'X-CSRF-Token': session.csrf } });
	session = null;
	showLogin();
}

// --- pages -------------------------------------------------------------

function perMinute(items, key) {
	const now = Date.now(), b = new Array(60).fill(0);
	for (const it of items) {
		const age = Math.floor((now - Date.parse(it[key])) / 60000);
		if (age >= 0 && age < 60)
			b[59 - age]++;
	}
	return b;
}

function chart(series) {
	const ns = 'http://www.w3.org/2000/svg';
	const svg = document.createElementNS(ns, 'svg');
	svg.setAttribute('viewBox', '0 0 600 160');
	svg.setAttribute('role', 'img');
	const max = Math.max(1, ...series.flatMap((s) => s.data));
	svg.setAttribute('aria-label', 'Per minute over the last hour: ' +
	    series.map((s) => s.name + ' ' + s.data.reduce((a, b) => a + b, 0))
		.join(', '));
	series.forEach((s, k) => {
		s.data.forEach((v, i) => {
			if (!v) return;
			const r = document.createElementNS(ns, 'rect');
			const hgt = v / max * 140;
			r.setAttribute('x', i * 10 + k * 4 + 1);
			r.setAttribute('y', 150 - hgt);
			r.setAttribute('width', 4);
			r.setAttribute('height', hgt);
			r.setAttribute('fill', s.color);
			const t = document.createElementNS(ns, 'title');
			t.textContent = `${s.name}: ${v}, ${59 - i} min ago`;
			r.append(t);
			svg.append(r);
		});
	});
	const axis = document.createElementNS(ns, 'line');
	for (const [a, v] of [['x1', 0], ['x2', 600], ['y1', 150], ['y2', 150]])
		axis.setAttribute(a, v);
	axis.setAttribute('stroke', '#999');
	svg.append(axis);
	return h('div', { class: 'chart' }, svg, h('div', { class: 'legend' },
	    series.map((s) => h('span', {}, h('span', { class: 'key-' + s.name },
		'\u25a0 '), `${s.name}: ${s.data.reduce((a, b) => a + b, 0)} ` +
		'in the last hour'))));
}

async function overview() {
	page('Overview', h('p', { class: 'muted' }, 'Loading…'));
	const [st, events, runs, subs] = await Promise.all([
		api('GET', 'stages'), api('GET', 'events?limit=1000'),
		api('GET', 'runs?limit=1000'), api('GET', 'subscriptions')]);
	const bad = runs.filter((r) => r.status === 'dead' || r.status === 'failed')
	    .slice(0, 10);
	const silent = subs.filter((s) => !s.last_event_at ||
	    Date.now() - Date.parse(s.last_event_at) > 86400000);
	page('Overview',
	    h('section', { class: 'card', 'aria-label': 'Stages' },
		h('h2', {}, 'Stages'),
		table(['Stage', 'State', 'Pid', 'Up for', 'Restarts'],
		    st.stages.map((s) => h('tr', {},
			h('td', {}, s.name), h('td', {}, badge(s.state)),
			h('td', {}, s.pid ?? '-'),
			h('td', {}, s.uptime != null ? s.uptime + ' s' : '-'),
			h('td', {}, `${s.restarts} (${s.crashes} crashes)`))))),
	    h('section', { class: 'card' }, h('h2', {}, 'Per minute, last hour'),
		chart([
		    { name: 'events', color: '#2457c5',
			data: perMinute(events, 'received_at') },
		    { name: 'runs', color: '#1f7a3d',
			data: perMinute(runs, 'created_at') }])),
	    h('div', { class: 'grid' },
		h('section', { class: 'card' }, h('h2', {}, 'Recent failures'),
		    table(['Run', 'Workflow', 'Status', 'Error'], bad.map((r) =>
			h('tr', {}, h('td', {}, h('a', { href: '#/runs/' + r.id },
			    r.id.slice(0, 8))), h('td', {}, r.workflow),
			    h('td', {}, badge(r.status)),
			    h('td', {}, r.last_error || ''))), 'No failed runs.')),
		h('section', { class: 'card' },
		    h('h2', {}, 'Silent subscriptions (nothing for a day)'),
		    table(['Subscription', 'Last delivery'], silent.map((s) =>
			h('tr', {}, h('td', {}, s.name),
			    h('td', {}, when(s.last_event_at)))),
			'Every subscription heard from its provider today.'))));
}

async function integrations() {
	const list = await api('GET', 'integrations');
	const cats = {};
	for (const i of list)
		(cats[i.category || 'Other'] ||= []).push(i);
	page('Integrations', Object.keys(cats).sort().map((c) =>
	    h('section', { class: 'card' }, h('h2', {}, c),
		table(['Integration', 'Modes', 'Events', 'Setup'],
		    cats[c].map((i) => h('tr', {},
			h('td', {}, h('strong', {}, i.title || i.name),
			    h('div', { class: 'muted mono' }, i.name)),
			h('td', {}, (i.modes || []).join(', ')),
			h('td', {}, (i.events || []).length),
			h('td', {}, setupHint(i.name))))))));
}

// The setup hint comes with `integration show`: fetched when opened.
function setupHint(name) {
	const d = h('details', {}, h('summary', {}, 'How to connect'));
	d.addEventListener('toggle', async () => {
		if (!d.open || d.dataset.loaded)
			return;
		d.dataset.loaded = '1';
		const i = await guard(() => api('GET', 'integrations/' + name));
		const s = i.setup || {};
		d.append(h('dl', {},
		    s.where ? [h('dt', {}, 'Where'), h('dd', {}, s.where)] : null,
		    s.callback_url ? [h('dt', {}, 'Callback URL goes in'),
			h('dd', {}, s.callback_url)] : null,
		    s.secret ? [h('dt', {}, 'Secret'), h('dd', {},
			s.secret === 'hookpipe' ? 'generated by hookpipe; paste it ' +
			    'in ' + (s.secret_field || 'the provider') :
			s.secret === 'provider' ? 'made by the provider (' +
			    (s.secret_field || 'its settings') + '); give it to hookpipe' :
			'none')] : null,
		    s.command ? [h('dt', {}, 'Command'), h('dd', {},
			h('code', {}, s.command))] : null,
		    s.notes ? [h('dt', {}, 'Notes'), h('dd', {}, s.notes)] : null,
		    s.docs ? [h('dt', {}, 'Docs'), h('dd', {}, h('a', {
			href: s.docs, rel: 'noopener noreferrer', target: '_blank' },
			s.docs))] : null));
	});
	return d;
}
// The modes an integration allows (its definition's api block makes
// api-key and oauth possible): manual always.
const MODE_LABEL = { manual: 'Manual (you set the webhook up)',
    'api-key': 'Automatic, with an API key',
    oauth: 'Automatic, with an OAuth authorization' };

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

async function subscriptions() {
	const [, integs] = await Promise.all([api('GET', 'subscriptions'),
	    api('GET', 'integrations')]);
	let creds = [];
	const created = h('div', {});
	const integSel = h('select', { name: 'integration' },
	    integs.map((i) => h('option', { value: i.name }, i.title || i.name)));
	const modeSel = h('select', { name: 'mode' });
	const credSel = h('select', { name: 'credential' });
	const keyIn = h('input', { name: 'api-key', type: 'password',
	    autocomplete: 'off', 'aria-describedby': 'key-help' });
	const keyField = h('div', { class: 'mode-key' }, field('API key', keyIn),
	    h('p', { id: 'key-help', class: 'muted' }, 'Checked with the ' +
		'provider, then stored encrypted as a credential; sent only in ' +
		'the request\'s body.'));
	const clientId = h('input', { name: 'client-id', autocomplete: 'off' });
	const clientSecret = h('input', { name: 'client-secret',
	    type: 'password', autocomplete: 'off' });
	const oauthField = h('div', { class: 'mode-oauth' },
	    h('p', { class: 'muted' }, 'The provider\'s page opens in a new ' +
		'tab; once you allow hookpipe there, the subscription is made ' +
		'here. The OAuth application (set once per integration):'),
	    field('Client ID (empty: as set before)', clientId),
	    field('Client secret', clientSecret));
	const params = h('input', { name: 'param', autocomplete: 'off',
	    placeholder: 'repository=owner/repo' });
	const auto = h('fieldset', { class: 'auto' },
	    h('legend', {}, 'Made with the provider'),
	    field('Credential', credSel), keyField, oauthField,
	    field('Where (KEY=VALUE, space-separated)', params));
	const gen = h('label', { class: 'inline' }, h('input', {
	    type: 'checkbox', name: 'generate-secret', checked: true }),
	    ' Generate a signing secret');
	const status = h('p', { role: 'status', id: 'sub-status' });
	const error = h('p', { role: 'alert', id: 'sub-error', class: 'error' });
	const form = h('form', { class: 'card', 'aria-label': 'New subscription' },
	    h('h2', {}, 'New subscription'),
	    field('Name', h('input', { name: 'name', required: true,
		pattern: '[A-Za-z0-9._\\-]+', autocomplete: 'off' })),
	    field('Integration', integSel), field('Mode', modeSel),
	    field('Events (comma-separated, empty for all)',
		h('input', { name: 'events', placeholder: 'all' })),
	    gen, auto,
	    h('div', { class: 'actions' }, h('button', { type: 'submit' },
		'Create')), status, error);

	function integ() {
		return integs.find((i) => i.name === integSel.value) || {};
	}
	function showMode() {
		const mode = modeSel.value;
		auto.hidden = mode === 'manual';
		gen.hidden = mode !== 'manual';
		keyField.hidden = mode !== 'api-key' || credSel.value !== '';
		oauthField.hidden = mode !== 'oauth' || credSel.value !== '';
		const kind = mode === 'oauth' ? 'oauth' : 'api-key';
		const keep = credSel.value;
		credSel.replaceChildren(h('option', { value: '' }, mode === 'oauth' ?
		    'authorize a new one' : 'paste a new key'),
		    ...creds.filter((c) => c.integration === integSel.value &&
			c.kind === kind).map((c) => h('option', { value: c.name,
			    selected: c.name === keep }, c.name +
			    (c.login ? ' (' + c.login + ')' : ''))));
		keyField.hidden = mode !== 'api-key' || credSel.value !== '';
		oauthField.hidden = mode !== 'oauth' || credSel.value !== '';
	}
	function showModes() {
		const modes = integ().modes || ['manual'];
		modeSel.replaceChildren(...modes.map((m) => h('option',
		    { value: m }, MODE_LABEL[m] || m)));
		showMode();
	}
	integSel.addEventListener('change', showModes);
	modeSel.addEventListener('change', showMode);
	credSel.addEventListener('change', showMode);
	async function loadCreds() {
		try { creds = await api('GET', 'credentials'); } catch { creds = []; }
		showMode();
	}
	showModes();
	void loadCreds();

	function shown(s, mode) {
		created.replaceChildren(h('section', { class: 'card secret-once',
		    role: 'alert' },
		    h('h2', {}, 'Subscription ' + s.name + ' created'),
		    copyRow('Callback URL', s.callback_url),
		    s.remote_id ? h('p', {}, 'Made with ' + (integ().title ||
			s.integration) + ': ', h('code', { 'data-remote':
			s.name }, s.remote_id)) : null,
		    mode === 'manual' && s.secret ? copyRow('Secret', s.secret) :
			null,
		    mode === 'manual' && s.secret ? h('p', {}, 'The secret is ' +
			'shown this once: put it in the provider\'s webhook ' +
			'settings now.') : null));
	}
	// A credential of the OAuth flow: it exists once the provider sent
	// the browser back to the receiver's callback.
	async function awaitCred(name) {
		let stop = false;
		cleanup.push(() => { stop = true; });
		for (let i = 0; i < 300 && !stop; i++) {
			const l = await api('GET', 'credentials');
			if (l.some((c) => c.name === name))
				return true;
			await sleep(2000);
		}
		return false;
	}
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		error.textContent = '';
		status.textContent = '';
		const d = formData(form);
		const mode = modeSel.value;
		const body = { name: d.name, integration: d.integration };
		if (d.events)
			body.events = d.events;
		if (mode === 'manual') {
			if (d['generate-secret'])
				body['generate-secret'] = true;
		} else {
			body.mode = mode;
			body.param = (d.param || '').split(/\s+/).filter((x) => x);
		}
		let made = null;	// a credential made here, dropped on failure
		const btn = form.querySelector('button[type=submit]');
		btn.disabled = true;
		try {
			if (mode === 'api-key' && !credSel.value) {
				if (!keyIn.value)
					throw new Error('Paste an API key, or pick a ' +
					    'stored credential.');
				made = d.name + '-key';
				status.textContent = 'Checking the key with ' +
				    (integ().title || d.integration) + '…';
				try {
					await api('POST', 'credentials', { name: made,
					    integration: d.integration,
					    'api-key': keyIn.value });
				} catch (e) {
					made = null;
					throw e;
				}
				body.credential = made;
			} else if (mode === 'oauth' && !credSel.value) {
				if (clientId.value)
					await api('POST', 'oauth/client', {
					    integration: d.integration,
					    'client-id': clientId.value,
					    'client-secret': clientSecret.value });
				const name = d.name + '-oauth';
				const a = await api('POST', 'oauth/authorize',
				    { integration: d.integration, name });
				window.open(a.url, '_blank', 'noopener');
				status.replaceChildren('Waiting for the provider: allow ' +
				    'hookpipe in the tab that opened (or ',
				    h('a', { href: a.url, target: '_blank',
					rel: 'noopener' }, 'open the page'), ').');
				if (!await awaitCred(name))
					throw new Error('No authorization came back in ' +
					    '10 minutes; try again.');
				body.credential = name;
			} else if (mode !== 'manual')
				body.credential = credSel.value;
			if (mode !== 'manual')
				status.textContent = 'Creating the webhook with ' +
				    (integ().title || d.integration) + '…';
			const s = await api('POST', 'subscriptions', body);
			status.textContent = '';
			shown(s, mode);
			form.reset();
			showModes();
		} catch (e) {
			status.textContent = '';
			if (made)
				await api('DELETE', 'credentials/' +
				    encodeURIComponent(made)).catch(() => {});
			if (e.status !== 401)
				error.textContent = e.message;
		} finally {
			keyIn.value = '';
			clientSecret.value = '';
			btn.disabled = false;
		}
		await loadCreds();
		await renderList();
	});
	const listEl = h('section', { class: 'card' });
	async function renderList() {
		const l = await api('GET', 'subscriptions');
		listEl.replaceChildren(h('h2', {}, 'Subscriptions'),
		    table(['Name', 'Integration', 'Events', 'Workflows',
			'Last delivery', '~Callback URL', ''], l.map((s) =>
			h('tr', {}, h('td', {}, s.name),
			    h('td', {}, s.integration, s.remote_id ? [' ',
				h('code', { class: 'remote', title: 'its id at ' +
				    'the provider' }, s.remote_id)] : null),
			    h('td', {}, (s.events || []).join(', ')),
			    h('td', {}, s.workflows),
			    h('td', {}, when(s.last_event_at)),
			    h('td', { class: 'wide' }, h('code', {},
				s.callback_url), ' ',
				copyButton(s.callback_url,
				    'Copy the callback URL of ' + s.name)),
			    h('td', {}, h('div', { class: 'actions' },
				h('a', { href: '#/events?sub=' +
				    encodeURIComponent(s.name) }, 'Events'),
				h('button', { type: 'button', class: 'secondary',
				    'aria-label': 'Edit ' + s.name,
				    onclick: () => editSub(s) }, 'Edit'),
				h('button', { type: 'button', class: 'danger',
				    'aria-label': 'Delete ' + s.name,
				    onclick: () => delSub(s) }, 'Delete'))))),
			'No subscriptions yet: create one above.'));
	}
	// Events and secrets. A rotation: the new secret, with the old one
	// as the secondary until the provider signs with the new one.
	const editEl = h('div', {});
	function editSub(s) {
		const f = h('form', { class: 'card', 'aria-label': 'Edit ' + s.name },
		    h('h2', {}, 'Edit ' + s.name),
		    field('Events (comma-separated, or all)', h('input', {
			name: 'events', value: (s.events || []).join(',')
			    .replace(/^\*$/, 'all') })),
		    field('New secret', h('input', { name: 'secret',
			type: 'password', autocomplete: 'new-password' })),
		    field('Secondary secret (the old one, while rotating)',
			h('input', { name: 'secondary-secret', type: 'password',
			    autocomplete: 'off' })),
		    h('label', { class: 'inline' }, h('input', { type: 'checkbox',
			name: 'clear-secondary' }), ' Drop the secondary secret'),
		    h('div', { class: 'actions' },
			h('button', { type: 'submit' }, 'Save'),
			h('button', { type: 'button', class: 'secondary',
			    onclick: () => editEl.replaceChildren() }, 'Cancel')));
		f.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			const d = formData(f);
			if (!d['clear-secondary'])
				delete d['clear-secondary'];
			await guard(() => api('PATCH', 'subscriptions/' + s.name, d));
			toast('Saved ' + s.name);
			editEl.replaceChildren();
			await renderList();
		});
		editEl.replaceChildren(f);
		f.elements.events.focus();
	}
	async function delSub(s) {
		if (!confirm(`Delete subscription ${s.name}?`))
			return;
		try {
			await api('DELETE', 'subscriptions/' + s.name);
		} catch (e) {
			if (e.status !== 422 || !confirm(e.message +
			    '\n\nDelete it anyway (and its triggers)?'))
				return toast(e.message, true);
			await guard(() => api('DELETE', 'subscriptions/' + s.name +
			    '?force=1'));
		}
		toast('Deleted ' + s.name);
		await renderList();
	}
	page('Subscriptions', form, created, editEl, listEl);
	await renderList();
}

async function workflows() {
	const [subs, recent] = await Promise.all([api('GET', 'subscriptions'),
	    api('GET', 'events?limit=20')]);
	const listEl = h('div', {});
	const form = h('form', { class: 'card', 'aria-label': 'New workflow' },
	    h('h2', {}, 'New workflow'),
	    field('Name', h('input', { name: 'name', required: true,
		autocomplete: 'off' })),
	    field('Action', h('select', { name: 'kind' },
		h('option', { value: 'exec' }, 'Run a command'),
		h('option', { value: 'http' }, 'POST to a URL'))),
	    field('Command or URL', h('input', { name: 'target', required: true,
		size: 40 })),
	    field('Retries', h('input', { name: 'retries', type: 'number',
		min: 0, value: 4 })),
	    h('div', { class: 'actions' }, h('button', { type: 'submit' },
		'Create')));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const d = formData(form);
		const body = { name: d.name, [d.kind]: d.target,
		    retries: Number(d.retries || 0) };
		await guard(() => api('POST', 'workflows', body));
		toast('Created ' + d.name + ' (a draft: add a trigger, then publish)');
		form.reset();
		await render();
	});
	async function act(w, action, body) {
		await guard(() => api('POST', `workflows/${w}/${action}`, body));
		toast(`${w}: ${action} done`);
		await render();
	}
	// The filter and the map, tried on a stored event as you type (by
	// the admin stage's jq workers, on the router's budget).
	const payloads = {};
	async function tryJq(f, out) {
		const id = f.elements.try.value;
		const filter = f.elements.filter.value, map = f.elements.map.value;
		if (!id || !filter && !map)
			return out.replaceChildren();
		payloads[id] ||= (await api('GET', 'events/' + id)).payload;
		const r = await api('POST', 'jq', { input: payloads[id], filter, map });
		out.replaceChildren(
		    r.filter ? h('div', {}, 'filter: ', r.filter.error ?
			h('span', { class: 'error' }, r.filter.error) :
			h('strong', {}, String(r.filter.value))) : null,
		    r.map ? h('div', {}, 'map: ', r.map.error ?
			h('span', { class: 'error' }, r.map.error) :
			h('pre', {}, pretty(r.map.value))) : null);
	}
	function triggerForm(w) {
		const out = h('div', { class: 'jq-result', role: 'status',
		    'aria-live': 'polite' });
		const f = h('form', { 'aria-label': 'Add a trigger to ' + w.name },
		    field('Subscription', h('select', { name: 'sub' },
			subs.map((s) => h('option', { value: s.name }, s.name)))),
		    field('Event', h('input', { name: 'event', value: '*' })),
		    field('jq filter (optional)', h('input', { name: 'filter',
			size: 30, placeholder: '.data.amount > 100' })),
		    field('jq map (optional)', h('input', { name: 'map', size: 30,
			placeholder: '{id: .id}' })),
		    field('Try on a stored event', h('select', { name: 'try' },
			h('option', { value: '' }, recent.length ? '(none)' :
			    '(no events yet)'),
			recent.map((e) => h('option', { value: e.id },
			    `${e.subscription_name} ${e.type} ${ago(e.received_at)}`)))),
		    out,
		    h('div', { class: 'actions' }, h('button', { type: 'submit' },
			'Add trigger')));
		let timer;
		const later = () => {
			clearTimeout(timer);
			timer = setTimeout(() => tryJq(f, out).catch((e) =>
			    out.replaceChildren(h('span', { class: 'error' },
				e.message))), 300);
		};
		f.addEventListener('input', later);
		f.addEventListener('change', later);
		f.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			const d = formData(f);
			delete d.try;
			await act(w.name, 'trigger', d);
		});
		return f;
	}
	// The action's limits, changed in place (workflow edit): triggers,
	// state and runs stay.
	function editForm(w) {
		const num = (name, label, value, min) => h('label', {}, label,
		    h('input', { name, type: 'number', min: String(min),
			value: String(value ?? '') }));
		const f = h('form', { class: 'inline', 'aria-label':
		    'Edit ' + w.name },
		    num('timeout', 'Timeout (s)', w.action.timeout, 1),
		    num('retries', 'Retries', w.action.retries, 0),
		    num('concurrency', 'Concurrency (0: the default)',
			    w.action.concurrency, 0),
		    h('button', { type: 'submit', class: 'secondary' }, 'Save'));
		f.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			const d = formData(f);
			for (const k of Object.keys(d))
				if (d[k] === '') delete d[k];
			await act(w.name, 'edit', d);
		});
		return f;
	}
	async function render() {
		const l = await api('GET', 'workflows');
		listEl.replaceChildren(...(l.length ? l.map((w) =>
		    h('section', { class: 'card', 'aria-label': w.name },
			h('h2', {}, w.name, ' ', badge(w.state),
			    w.enabled === false ? [' ', badge('disabled')] : []),
			h('p', {}, h('strong', {}, w.action.type + ': '),
			    h('code', {}, w.action.command || w.action.url ||
				w.action.base || w.action.endpoint || ''),
			    h('span', { class: 'muted' }, ` · timeout ${w.action.timeout} s,` +
				` ${w.action.retries} retries`)),
			table(['Subscription', 'Event', 'Filter', 'Map', ''],
			    w.triggers.map((t) => h('tr', {},
				h('td', {}, t.subscription_name),
				h('td', {}, t.event),
				h('td', {}, h('code', {}, t.filter || '')),
				h('td', {}, h('code', {}, t.map || '')),
				h('td', {}, h('button', { type: 'button',
				    class: 'secondary', onclick: () =>
					act(w.name, 'untrigger', { sub:
					    t.subscription_name, event: t.event })
				}, 'Remove')))), 'No triggers yet.'),
			triggerForm(w),
			editForm(w),
			h('div', { class: 'actions' },
			    w.enabled === false ?
				h('button', { type: 'button', onclick: () =>
				    act(w.name, 'enable') }, 'Enable') :
				h('button', { type: 'button', class: 'secondary',
				    onclick: () => act(w.name, 'disable') },
				    'Disable'),
			    w.state === 'published' ?
				h('button', { type: 'button', class: 'secondary',
				    onclick: () => act(w.name, 'unpublish') },
				    'Unpublish') :
				h('button', { type: 'button', onclick: () =>
				    act(w.name, 'publish') }, 'Publish'),
			    h('a', { href: '#/test/' + encodeURIComponent(w.name) },
				'Test'),
			    h('a', { href: '#/runs?workflow=' +
				encodeURIComponent(w.name) }, 'Runs'),
			    h('button', { type: 'button', class: 'danger',
				onclick: async () => {
				    if (!confirm('Delete workflow ' + w.name + '?'))
					return;
				    await guard(() => api('DELETE', 'workflows/' +
					w.name));
				    await render();
				} }, 'Delete')))) :
		    [h('p', { class: 'muted' }, 'No workflows yet.')]));
	}
	page('Workflows', form, listEl);
	await render();
}

async function test(name) {
	const wfs = await api('GET', 'workflows');
	const sel = h('select', { name: 'workflow' }, wfs.map((w) =>
	    h('option', { value: w.name, selected: w.name === name }, w.name)));
	const status = h('p', { role: 'status', id: 'test-status' },
	    'Pick a workflow and run this step: the next matching event ' +
	    'starts a test run.');
	const seen = h('div', { class: 'live', 'aria-label': 'Deliveries' });
	const result = h('div', { id: 'test-result' });
	const btn = h('button', { type: 'button', onclick: start },
	    'Run this step');
	function start() {
		for (const f of cleanup) f();
		cleanup = [];
		const w = sel.value;
		btn.disabled = true;
		result.replaceChildren();
		seen.replaceChildren();
		status.textContent = `Listening: send an event to ${w}'s ` +
		    'subscriptions (for instance: hookpipe send SUB --event TYPE).';
		stream('tail/verifier', (d) => {
			if (typeof d !== 'object' || !d.event_id) return;
			seen.append(h('div', {}, `${d.message || ''} ` +
			    `${d.subscription_name || d.subscription || ''} ` +
			    `${d.type || ''} ${d.event_id}`));
		});
		// The event, its output variables, then the result: each
		// drawn as its line comes (workflow test --json --live).
		const evCard = h('section', { class: 'card', id: 'test-event',
		    'aria-live': 'polite' });
		const resCard = h('section', { class: 'card', id: 'test-run',
		    'aria-live': 'polite' });
		function showEvent(ev, run) {
			status.textContent = 'Event captured: running ' + w +
			    ' once (run ' + (run.id || '') + ')…';
			evCard.replaceChildren(h('h2', {}, 'Event captured'),
			    h('p', {}, ev.type || '', ' from ',
				ev.subscription_name || ev.subscription || '', ' ',
				h('a', { href: '#/events/' + ev.id, class: 'mono' },
				    ev.id || '')));
			resCard.replaceChildren(h('h2', {}, 'Result ',
			    badge('pending')), h('p', { class: 'muted' },
			    'The run has not ended yet.'));
			result.replaceChildren(evCard, resCard);
		}
		function showInputs(inputs, mapped) {
			evCard.querySelector('.vars')?.remove();
			evCard.append(h('div', { class: 'vars' },
			    h('h2', {}, 'Output variables'),
			    h('p', { class: 'muted' }, mapped ?
				'After the trigger\'s map.' : 'The payload.'),
			    h('pre', {}, pretty(inputs))));
		}
		function showResult(run) {
			status.textContent = 'Run ' + (run.status || 'finished');
			resCard.replaceChildren(h('h2', {},
			    'Result ', badge(run.status || '?')),
			    ...(run.history || []).map((a) => h('div', {},
				h('p', {}, `Attempt ${a.attempt}: ` +
				    (a.error || 'ok') + ` (${a.duration_ms} ms)`),
				h('pre', {}, a.output || ''))));
		}
		stream('workflows/' + encodeURIComponent(w) + '/test?timeout=300',
		    (d) => {
			if (typeof d !== 'object' || d === null) return;
			if (d.phase === 'event')
				return showEvent(d.event || {}, d.run || {});
			if (d.phase === 'inputs')
				return showInputs(d.inputs, d.mapped);
			// The result: it has the event and inputs too.
			if (!evCard.isConnected)
				showEvent(d.event || {}, d.run || {});
			if (!evCard.querySelector('.vars'))
				showInputs(d.inputs || (d.event || {}).payload || {},
				    false);
			showResult(d.run || {});
		    }, (end) => {
			btn.disabled = false;
			for (const f of cleanup) f();
			cleanup = [];
			if (end && end.exit !== 0 && !result.childElementCount)
				status.textContent = 'No event came, or the test ' +
				    'could not start (exit ' + end.exit + ').';
		    });
	}
	page('Test', h('section', { class: 'card' }, field('Workflow', sel),
	    h('div', { class: 'actions' }, btn), status), result,
	    h('h2', {}, 'Deliveries, live'), seen);
}

function filterForm(fields, params, go) {
	const f = h('form', { class: 'card', 'aria-label': 'Filter' },
	    fields.map(([name, label, opts]) => field(label, opts ?
		h('select', { name }, h('option', { value: '' }, 'any'),
		    opts.map((o) => h('option', { value: o,
			selected: params.get(name) === o }, o))) :
		h('input', { name, value: params.get(name) || '' }))),
	    h('div', { class: 'actions' }, h('button', { type: 'submit' },
		'Filter')));
	f.addEventListener('submit', (ev) => {
		ev.preventDefault();
		go(qs(formData(f)));
	});
	return f;
}

// A time for a datetime-local input (the browser's zone), and back.
function localInput(iso) {
	const d = new Date(iso);
	if (isNaN(d))
		return '';
	const p = (n) => String(n).padStart(2, '0');
	return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}` +
	    `T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function fromLocalInput(v) {
	const d = new Date(v);
	return v && !isNaN(d) ? d.toISOString() : '';
}

const RANGES = [['15m', 'the last 15 minutes'], ['1h', 'the last hour'],
    ['1d', 'the last day'], ['7d', 'the last 7 days']];

// The search: subscription, type, status, a time range (a preset or
// from/to) and a jq predicate over payloads; the CLI's error under the
// field it is about.
function eventsForm(params) {
	const since = params.get('since') || '', until = params.get('until') || '';
	const preset = RANGES.some(([v]) => v === since) ? since :
	    since ? 'custom' : '';
	const err = (id) => h('p', { id, class: 'error field-error',
	    role: 'alert', hidden: true });
	const range = h('select', { name: 'range' },
	    h('option', { value: '' }, 'any time'),
	    RANGES.map(([v, l]) => h('option', { value: v,
		selected: preset === v }, l)),
	    h('option', { value: 'custom', selected: preset === 'custom' },
		'from … to …'));
	const from = h('input', { type: 'datetime-local', name: 'from',
	    value: preset === 'custom' ? localInput(since) : '',
	    'aria-describedby': 'since-error' });
	const to = h('input', { type: 'datetime-local', name: 'to',
	    value: until ? localInput(until) : '',
	    'aria-describedby': 'until-error' });
	const jq = h('input', { name: 'jq', class: 'mono', value:
	    params.get('jq') || '', placeholder: '.data.amount > 1000',
	    spellcheck: 'false', autocomplete: 'off',
	    'aria-describedby': 'jq-help jq-error' });
	const sel = (name, opts) => h('select', { name },
	    h('option', { value: '' }, 'any'), opts.map((o) =>
		h('option', { value: o, selected: params.get(name) === o }, o)));
	const inp = (name) => h('input', { name, value: params.get(name) || '' });
	const f = h('form', { class: 'card events-search',
	    'aria-label': 'Search events' },
	    h('div', {}, field('Subscription', inp('sub')),
		field('Type', inp('type')),
		field('Status', sel('status', ['stored', 'ignored', 'routed'])),
		field('Limit', inp('limit'))),
	    h('fieldset', {}, h('legend', {}, 'Received'),
		field('When', range), field('From', from), field('To', to),
		err('since-error'), err('until-error')),
	    h('div', { class: 'jq-field' }, field('Payload matches (jq)', jq),
		h('p', { id: 'jq-help', class: 'muted' }, 'A jq program run ' +
		    'on each payload: an event is listed when its first ' +
		    'result is neither false nor null.'), err('jq-error')),
	    h('div', { class: 'actions' }, h('button', { type: 'submit' },
		'Search')));
	function custom() {
		from.disabled = range.value !== 'custom';
	}
	range.addEventListener('change', custom);
	custom();
	f.addEventListener('submit', (ev) => {
		ev.preventDefault();
		const d = formData(f);
		const q = { sub: d.sub, type: d.type, status: d.status,
		    jq: d.jq, limit: d.limit };
		if (range.value === 'custom')
			q.since = fromLocalInput(from.value);
		else
			q.since = range.value;
		q.until = fromLocalInput(to.value);
		const hash = '#/events' + qs(q);
		if (location.hash === hash)
			route();
		else
			location.hash = hash;
	});
	// The CLI's message, under its field: "--jq ...", "--since ...".
	f.showError = (msg) => {
		const m = String(msg).replace(/; see 'hookpipe events --help'$/, '');
		const which = m.startsWith('--jq') ? ['jq-error', jq] :
		    m.startsWith('--since') ? ['since-error', range.value ===
			'custom' ? from : range] :
		    m.startsWith('--until') ? ['until-error', to] : null;
		const el = f.querySelector('#' + (which ? which[0] : 'jq-error'));
		el.textContent = m;
		el.hidden = false;
		if (which) {
			which[1].setAttribute('aria-invalid', 'true');
			which[1].focus();
		}
	};
	return f;
}

async function events(params) {
	const q = Object.fromEntries(params);
	const f = eventsForm(params);
	let list;
	try {
		list = await api('GET', 'events' + qs(q));
	} catch (e) {
		if (e.status !== 400 && e.status !== 422)
			throw e;
		page('Events', f);
		f.showError(e.message);
		return;
	}
	page('Events', f,
	    table(['Received', 'Subscription', 'Type', 'Status', 'Event'],
		list.map((e) => h('tr', {}, h('td', {}, when(e.received_at)),
		    h('td', {}, e.subscription_name), h('td', {}, e.type),
		    h('td', {}, badge(e.status)),
		    h('td', {}, h('a', { href: '#/events/' + e.id, class: 'mono' },
			e.id)))), 'No events match.'));
}

// Cluster mode: the host that has the run, and how it is known when
// that host does not answer (its copy; its claim, no attempt ended).
function runHost(r) {
	return r.host + (r.copy ? ' (copy: the host does not answer)' : '') +
	    (r.claim ? ' (does not answer; no attempt ended)' : '');
}

function runHeads(list) {
	return ['Created', 'Workflow', 'Status', 'Attempts', 'Error']
	    .concat(list.some((r) => r.host) ? ['Host'] : [], ['']);
}

function runRow(r, replay, hosts) {
	return h('tr', {}, h('td', {}, when(r.created_at)),
	    h('td', {}, r.workflow), h('td', {}, badge(r.status)),
	    h('td', {}, r.claim ? '' : `${r.attempts}/${r.max_attempts}`),
	    h('td', {}, r.last_error || ''),
	    hosts ? h('td', {}, r.host ? runHost(r) : '') : null,
	    h('td', {}, h('div', { class: 'actions' },
		r.claim ? h('span', { class: 'mono' }, r.id.slice(0, 8)) :
		    h('a', { href: '#/runs/' + r.id, class: 'mono' },
			r.id.slice(0, 8)),
		// A run its host has yet to run is not replayed here.
		r.claim ? null : h('button', { type: 'button',
		    class: 'secondary', 'aria-label': 'Replay run ' + r.id,
		    onclick: () => replay(r) }, 'Replay'))));
}

async function replayRun(r) {
	const d = await guard(() => api('POST', `events/${r.event_id}/replay`,
	    { workflow: r.workflow, force: true }));
	toast('Replayed: ' + (d.runs ? d.runs.length + ' run(s)' : 'queued'));
	return d;
}

async function eventPage(id) {
	const e = await api('GET', 'events/' + id);
	page('Event ' + e.id,
	    h('section', { class: 'card' },
		h('p', {}, `${e.type} from ${e.subscription_name} (${e.integration}), `,
		    when(e.received_at), ' ', badge(e.status)),
		h('h2', {}, 'Headers'), h('pre', {}, pretty(e.headers)),
		h('h2', {}, 'Payload'), h('pre', {}, pretty(e.payload))),
	    h('section', { class: 'card' }, h('h2', {}, 'Runs'),
		table(runHeads(e.runs || []),
		    (e.runs || []).map((r) => runRow(r, async (x) => {
			await replayRun(x);
			await eventPage(id);
		    }, (e.runs || []).some((x) => x.host))), 'No runs.')));
}

async function runs(params) {
	const p = Object.fromEntries(params);
	const [list, wfs] = await Promise.all([api('GET', 'runs' + qs(p)),
	    api('GET', 'workflows')]);
	const bulk = h('div', { class: 'actions' },
	    h('button', { type: 'button', class: 'secondary',
		disabled: !list.length, onclick: async () => {
		    // The dry run first: how many the server would replay.
		    const filter = { workflow: p.workflow, status: p.status,
			limit: p.limit };
		    const dry = await guard(() => api('POST', 'runs/replay',
			{ ...filter, dry_run: true }));
		    if (!confirm(`Replay ${dry.count} run(s) of this filter ` +
			`(${qs(p) || 'all'})? Each one's event runs again ` +
			'through its workflow.'))
			return;
		    const r = await guard(() => api('POST', 'runs/replay', filter));
		    toast(`Replayed ${r.replayed} of ${r.count}`);
		    await runs(params);
		} }, 'Replay these…'));
	page('Runs', filterForm([['workflow', 'Workflow', wfs.map((w) => w.name)],
	    ['status', 'Status', ['queued', 'running', 'succeeded', 'failed',
		'dead']], ['limit', 'Limit']], params,
	    (q) => { location.hash = '#/runs' + q; }),
	    h('section', { class: 'card' }, bulk,
		table(runHeads(list),
		    list.map((r) => runRow(r, async (x) => {
			await replayRun(x);
			await runs(params);
		    }, list.some((x) => x.host))), 'No runs match.')));
}

async function runPage(id) {
	const list = await api('GET', 'runs?limit=1000');
	const r = list.find((x) => x.id === id || x.id.startsWith(id));
	if (!r)
		return page('Run', h('p', { class: 'error' }, 'No such run ' + id));
	page('Run ' + r.id,
	    h('section', { class: 'card' },
		h('p', {}, `${r.workflow} `, badge(r.status),
		    ` ${r.attempts}/${r.max_attempts} attempts, event `,
		    h('a', { href: '#/events/' + r.event_id, class: 'mono' },
			r.event_id), r.host ? ', on ' + runHost(r) : ''),
		h('div', { class: 'actions' }, h('button', { type: 'button',
		    onclick: async () => { await replayRun(r); } }, 'Replay'))),
	    (r.history || []).map((a) => h('section', { class: 'card' },
		h('h2', {}, `Attempt ${a.attempt}`),
		h('p', {}, when(a.started_at), ` · ${a.duration_ms} ms · ` +
		    (a.exit_code != null ? 'exit ' + a.exit_code : '') +
		    (a.http_status != null ? 'HTTP ' + a.http_status : '') +
		    (a.error ? ' · ' + a.error : '')),
		h('h2', {}, 'Output'), h('pre', { class: 'run-output' },
		    a.output || ''))));
}

function tail(params) {
	const stageSel = h('select', { name: 'stage' }, ['receiver', 'verifier',
	    'router', 'dispatcher', 'admin'].map((s) => h('option',
		{ value: s, selected: params.get('stage') === s }, s)));
	const filter = h('input', { name: 'filter', placeholder: 'text to match' });
	const payload = h('input', { type: 'checkbox', name: 'payload' });
	const out = h('div', { class: 'live', 'aria-live': 'off',
	    'aria-label': 'Messages' });
	let paused = false, held = [];
	const pause = h('button', { type: 'button', class: 'secondary',
	    'aria-pressed': 'false', onclick: () => {
		paused = !paused;
		pause.textContent = paused ? 'Resume' : 'Pause';
		pause.setAttribute('aria-pressed', String(paused));
		if (!paused) { held.forEach(show); held = []; }
	    } }, 'Pause');
	function show(line) {
		if (filter.value && !line.includes(filter.value))
			return;
		out.append(h('div', {}, line));
		while (out.childElementCount > 1000)
			out.firstChild.remove();
		out.scrollTop = out.scrollHeight;
	}
	function start() {
		for (const f of cleanup) f();
		cleanup = [];
		out.replaceChildren();
		stream(`tail/${stageSel.value}${payload.checked ? '?payload=1' : ''}`,
		    (d) => {
			const line = typeof d === 'string' ? d : JSON.stringify(d);
			if (paused) held.push(line); else show(line);
		    });
	}
	stageSel.addEventListener('change', start);
	payload.addEventListener('change', start);
	page('Tail', h('section', { class: 'card' }, field('Stage', stageSel),
	    field('Filter', filter), h('label', { class: 'inline' }, payload,
		' Payloads'), h('div', { class: 'actions' }, pause)), out);
	start();
}

async function audit() {
	const l = await api('GET', 'audit?limit=500');
	page('Audit log', table(['When', 'Who', 'From', 'What', 'Target',
	    '~Detail', 'Status'], l.map((a) => h('tr', {},
		h('td', {}, when(a.at)), h('td', {}, a.who), h('td', {}, a.from),
		h('td', {}, a.what), h('td', {}, a.target),
		h('td', { class: 'wide' }, a.detail), h('td', {}, a.status))),
	    'Nothing recorded yet.'));
}

// --- routing -----------------------------------------------------------

const routes = [
	[/^\/$/, overview],
	[/^\/integrations$/, integrations],
	[/^\/subscriptions$/, subscriptions],
	[/^\/workflows$/, workflows],
	[/^\/test(?:\/(.+))?$/, (p, m) => test(m[1] && decodeURIComponent(m[1]))],
	[/^\/events$/, events],
	[/^\/events\/([\w-]+)$/, (p, m) => eventPage(m[1])],
	[/^\/runs$/, runs],
	[/^\/runs\/([\w-]+)$/, (p, m) => runPage(m[1])],
	[/^\/tail$/, tail],
	[/^\/audit$/, audit],
];

async function route() {
	for (const f of cleanup) f();
	cleanup = [];
	if (!session)
		return showLogin();
	const hash = location.hash.replace(/^#/, '') || '/';
	const [path, query] = hash.split('?');
	const params = new URLSearchParams(query || '');
	for (const a of document.querySelectorAll('header nav a')) {
		const target = a.getAttribute('href').slice(1);
		if (target === path || target !== '/' && path.startsWith(target))
			a.setAttribute('aria-current', 'page');
		else
			a.removeAttribute('aria-current');
	}
	for (const [re, fn] of routes) {
		const m = path.match(re);
		if (!m)
			continue;
		try {
			await fn(params, m);
		} catch (e) {
			if (e.status !== 401)
				page('Error', h('p', { class: 'error' }, e.message));
		}
		// A page that put the focus on a field (an error) keeps it.
		if (!main.contains(document.activeElement))
			main.focus();
		return;
	}
	page('Not found', h('p', {}, 'No such page. ', h('a', { href: '#/' },
	    'Overview')));
}

async function boot() {
	try {
		session = await api('GET', 'session');
	} catch {
		session = null;
	}
	if (session)
		document.getElementById('who').replaceChildren(
		    'Logged in as ' + session.user,
		    h('button', { type: 'button', class: 'secondary', onclick: logout },
			'Log out'));
	await route();
}

window.addEventListener('hashchange', route);
boot();
