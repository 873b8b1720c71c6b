// The console in a real browser: headless Chromium driven by
// puppeteer-core (tests/npm). Prints one line per check, "PASS what" or
// "FAIL what: why", for 82-console.sh; screenshots go to SHOTS.
//
//   node console.js LOGIN_URL SHOTS_DIR
'use strict';
const path = require('path');
const { pass, fail, check, cli, failed, browse, go: goTo } =
    require('./checks');

const [login, shots] = process.argv.slice(2);
const origin = new URL(login).origin;

(async () => {
	const { browser, page } = await browse();
	const ctx = browser.defaultBrowserContext();
	await ctx.overridePermissions(origin, ['clipboard-read',
	    'clipboard-write', 'clipboard-sanitized-write']);
	const dialogs = [];
	page.on('dialog', async (d) => { dialogs.push(d.message()); await d.accept(); });
	const errors = [];
	page.on('pageerror', (e) => errors.push(e.message));
	let expect400 = false;
	page.on('console', (m) => {
		if (m.type() === 'error' && !(expect400 &&
		    m.text().includes('status of 400')))
			errors.push(m.text());
	});
	const shot = (name) => page.screenshot({ path: path.join(shots,
	    name + '.png'), fullPage: true });
	const heading = () => page.$eval('main h1', (e) => e.textContent);
	// Set a field as a person would, in one step: typing key by key
	// loses keys on a loaded machine.
	const fill = (sel, v) => page.$eval(sel, (e, x) => {
		e.value = x;
		e.dispatchEvent(new Event('input', { bubbles: true }));
	}, v);
	const go = (hash, title) => goTo(page, hash, title);

	try {
		// --- log in with the link -----------------------------------
		await page.goto(login, { waitUntil: 'networkidle0' });
		await check('the login link opens the console', async () => {
			await page.waitForFunction(() =>
			    document.querySelector('main h1')?.textContent === 'Overview' &&
			    document.querySelector('.chart svg'));
			return new URL(page.url()).search === '';
		});
		await check('it shows who is logged in', async () =>
		    (await page.$eval('#who', (e) => e.textContent)).includes('alice'));
		await check('the overview lists the five stages', async () =>
		    (await page.$$eval('main table tbody tr', (r) => r.length)) >= 5);
		await shot('overview');

		// --- create a subscription, copy its URL -------------------
		await go('#/subscriptions', 'Subscriptions');
		await fill('input[name=name]', 'web1');
		await page.select('select[name=integration]', 'openai');
		await page.click('form button[type=submit]');
		await page.waitForSelector('.secret-once');
		const url = await page.$eval('[data-copy="Callback URL"]',
		    (e) => e.textContent);
		await check('the new subscription shows its callback URL', () =>
		    url.startsWith(process.env.TRIGGER_URL + '/triggers/'));
		await check('and its secret, once', async () =>
		    (await page.$eval('[data-copy="Secret"]', (e) => e.textContent))
			.startsWith('whsec_'));
		await page.click('button[aria-label="Copy Callback URL"]');
		await check('Copy puts the callback URL on the clipboard', async () =>
		    (await page.evaluate(() => navigator.clipboard.readText())) === url);
		await check('the list shows it', async () =>
		    page.waitForFunction(() => [...document.querySelectorAll(
			'main table tbody tr td:first-child')].some((t) =>
			    t.textContent === 'web1')));
		await shot('subscriptions');
		await check('the CLI sees the subscription', () =>
		    JSON.parse(cli('--json', 'sub', 'show', 'web1')).callback_url === url);

		// Rotate its secret: a new one, the old one as the secondary.
		const old = await page.$eval('[data-copy="Secret"]', (e) => e.textContent);
		await page.click('button[aria-label="Edit web1"]');
		await page.waitForSelector('form[aria-label="Edit web1"]');
		await fill('form[aria-label="Edit web1"] input[name=secret]',
		    'whsec_' + Buffer.from('a new secret of 32 bytes, or so!').toString('base64'));
		await fill('form[aria-label="Edit web1"] input[name=secondary-secret]', old);
		await fill('form[aria-label="Edit web1"] input[name=events]',
		    'batch.completed,batch.failed');
		await page.click('form[aria-label="Edit web1"] button[type=submit]');
		await page.waitForFunction(() =>
		    !document.querySelector('form[aria-label="Edit web1"]'));
		await check('Edit rotates the secret and changes the events', () => {
			const s = JSON.parse(cli('--json', 'sub', 'show', 'web1', '--reveal'));
			return s.secondary_secret === old && s.secret !== old &&
			    s.events.join(',') === 'batch.completed,batch.failed';
		});

		// --- a workflow with a trigger ------------------------------
		await go('#/workflows', 'Workflows');
		await fill('form[aria-label="New workflow"] input[name=name]', 'wfail');
		await fill('form[aria-label="New workflow"] input[name=target]',
		    'echo failing-output; exit 3');
		await fill('form[aria-label="New workflow"] input[name=retries]', '0');
		await page.click('form[aria-label="New workflow"] button[type=submit]');
		await page.waitForSelector('section[aria-label="wfail"]');
		// The list is drawn again once the creation is answered: fill
		// the form that stays.
		const filt = 'form[aria-label="Add a trigger to wfail"] input[name=filter]';
		for (let i = 0; i < 10; i++) {
			await fill(filt, '.type == "batch.completed"');
			await new Promise((r) => setTimeout(r, 300));
			if (await page.$eval(filt, (e) => e.value) ===
			    '.type == "batch.completed"')
				break;
		}
		await page.click('form[aria-label="Add a trigger to wfail"] button[type=submit]');
		await page.waitForFunction(() => [...document.querySelectorAll(
		    'section[aria-label="wfail"] td')].some((t) => t.textContent === 'web1'));
		await check('the workflow has its trigger', () =>
		    JSON.parse(cli('--json', 'workflow', 'show', 'wfail'))
			.triggers[0].filter === '.type == "batch.completed"');
		await shot('workflows');

		// --- a test: listen, send, see the event and the result ----
		await go('#/test/wfail', 'Test');
		await page.click('main .actions button');
		await page.waitForFunction(() => document.getElementById('test-status')
		    .textContent.startsWith('Listening'));
		await new Promise((r) => setTimeout(r, 1500));
		cli('send', 'web1', '--event', 'batch.completed');
		await check('the captured event and the run\'s result appear', async () => {
			await page.waitForFunction(() => {
				const r = document.getElementById('test-result');
				return r && r.textContent.includes('Event captured') &&
				    r.textContent.includes('Result');
			}, { timeout: 60000 });
			return (await page.$eval('#test-result', (e) => e.textContent))
			    .includes('batch.completed');
		});
		await check('the failed run shows its output', async () => {
			await page.waitForFunction(() => {
				const b = document.querySelector('#test-run .badge');
				return b && b.textContent !== 'pending';
			}, { timeout: 60000 });
			return (await page.$eval('#test-result', (e) => e.textContent))
			    .includes('failing-output');
		});
		await shot('test');

		// --- the failed run, replayed -------------------------------
		await go('#/runs?workflow=wfail', 'Runs');
		const first = await page.$$eval('main tbody tr', (r) => r.length);
		await check('the runs page lists the failed run', async () =>
		    (await page.$eval('main tbody', (e) => e.textContent)).includes('dead'));
		await page.click('main tbody tr a.mono');
		await page.waitForSelector('.run-output');
		await check('a run shows its attempt\'s output', async () =>
		    (await page.$eval('.run-output', (e) => e.textContent))
			.includes('failing-output'));
		await shot('run');
		await page.click('main .actions button');
		await page.waitForFunction(() => document.getElementById('toast')
		    .textContent.includes('Replayed'));
		pass('replay one run');
		await go('#/events', 'Events');
		await go('#/runs?workflow=wfail&status=dead', 'Runs');
		await page.waitForFunction((n) => document.querySelectorAll(
		    'main tbody tr').length > n, { timeout: 30000 }, first);
		const dead = await page.$$eval('main tbody tr', (r) => r.length);
		pass(`the replay made another run (${first} -> ${dead})`);

		// --- bulk replay of a filtered set, after its count --------
		await page.click('main section .actions button');
		await page.waitForFunction(() => document.getElementById('toast')
		    .textContent.includes('Replayed '), { timeout: 60000 });
		await check(`the bulk replay asked first with its count (${dead})`, () =>
		    dialogs.some((m) => m.startsWith(`Replay ${dead} run(s)`)));
		await check('and replayed each one', async () =>
		    (await page.$eval('#toast', (e) => e.textContent))
			.includes(`Replayed ${dead} of ${dead}`));
		await shot('runs');

		// --- a slow run: the event shows before the run ends --------
		cli('workflow', 'create', 'wslow', '--exec',
		    'sleep 6; echo slow-output');
		cli('workflow', 'trigger', 'wslow', '--sub', 'web1', '--event',
		    'batch.completed');
		await go('#/audit', 'Audit log');
		await go('#/test/wslow', 'Test');
		await page.waitForFunction(() => document.querySelector(
		    'main select[name=workflow]')?.value === 'wslow');
		await page.click('main .actions button');
		await page.waitForFunction(() => document.getElementById('test-status')
		    .textContent.startsWith('Listening'));
		await new Promise((r) => setTimeout(r, 1500));
		cli('send', 'web1', '--event', 'batch.completed');
		await check('the captured event shows while the run goes on',
		    async () => {
			await page.waitForFunction(() => {
				const e = document.getElementById('test-event');
				return e && e.textContent.includes('batch.completed');
			}, { timeout: 60000 });
			const badge = await page.$eval('#test-run .badge',
			    (b) => b.textContent);
			const runs = JSON.parse(cli('--json', 'runs', '--workflow',
			    'wslow'));
			return badge === 'pending' && runs.length === 1 &&
			    runs[0].status !== 'succeeded' ||
			    Promise.reject(new Error(`badge ${badge}, run ` +
				runs.map((r) => r.status).join(',')));
		    });
		await check('with its output variables', async () => {
			await page.waitForSelector('#test-event .vars pre');
			return (await page.$eval('#test-event .vars pre',
			    (e) => e.textContent)).includes('batch.completed');
		});
		await shot('test-live');
		await check('then the result, when the run ends', async () => {
			await page.waitForFunction(() => document.querySelector(
			    '#test-run .badge')?.textContent === 'succeeded',
			    { timeout: 60000 });
			return (await page.$eval('#test-run', (e) => e.textContent))
			    .includes('slow-output');
		});

		// --- the other pages ----------------------------------------
		await go('#/events', 'Events');
		await page.click('main tbody tr a.mono');
		await page.waitForFunction(() =>
		    document.querySelector('main h1').textContent.startsWith('Event '));
		await check('an event shows its headers and payload', async () =>
		    (await page.$eval('main', (e) => e.textContent)).includes('webhook-id'));
		await shot('event');
		await go('#/events?sub=web1', 'Events');
		await shot('events');

		await go('#/integrations', 'Integrations');
		await page.$$eval('main details', (ds) => ds.forEach((d) => {
			if (d.closest('tr').textContent.includes('github'))
				d.open = true;
		}));
		await check('an integration shows where its callback URL goes',
		    async () => {
			await page.waitForFunction(() => [...document.querySelectorAll(
			    'main details dl')].some((x) =>
				x.textContent.includes('Payload URL')));
			return true;
		    });
		await shot('integrations');

		// The trigger editor tries the filter and map on a stored event.
		await go('#/workflows', 'Workflows');
		const tf = 'form[aria-label="Add a trigger to wfail"]';
		await page.waitForSelector(tf + ' select[name=try] option:nth-child(2)');
		const ev = await page.$eval(tf + ' select[name=try] option:nth-child(2)',
		    (o) => o.value);
		await page.select(tf + ' select[name=try]', ev);
		await fill(tf + ' input[name=filter]', '.type == "batch.completed"');
		await fill(tf + ' input[name=map]', '{kind: .type}');
		await check('the trigger editor evaluates the filter and the map',
		    async () => {
			await page.waitForFunction((sel) => {
				const t = document.querySelector(sel + ' .jq-result')
				    .textContent;
				return t.includes('filter: true') &&
				    t.includes('"kind": "batch.completed"');
			}, {}, tf);
			return true;
		    });
		await fill(tf + ' input[name=filter]', '.type ==');
		await check('and says when the filter is not valid jq', async () => {
			await page.waitForFunction((sel) => document.querySelector(
			    sel + ' .jq-result .error'), {}, tf);
			return true;
		});
		await shot('trigger-editor');
		await page.$$eval('section[aria-label="wfail"] .actions button',
		    (bs) => bs.find((b) => b.textContent === 'Publish').click());
		await check('Publish publishes the workflow', async () => {
			await page.waitForFunction(() => document.querySelector(
			    'section[aria-label="wfail"] h2 .badge').textContent ===
			    'published');
			return JSON.parse(cli('--json', 'workflow', 'show', 'wfail'))
			    .state === 'published';
		});
		// Disable and enable, apart from publishing; edit in place.
		const wbtn = (label) => page.$$eval(
		    'section[aria-label="wfail"] .actions button',
		    (bs, l) => bs.find((b) => b.textContent === l).click(), label);
		await wbtn('Disable');
		await check('Disable disables the workflow, still published',
		    async () => {
			await page.waitForFunction(() => [...document.querySelectorAll(
			    'section[aria-label="wfail"] h2 .badge')].some((b) =>
				b.textContent === 'disabled'));
			const w = JSON.parse(cli('--json', 'workflow', 'show', 'wfail'));
			return w.enabled === false && w.state === 'published';
		    });
		await wbtn('Enable');
		await check('Enable enables it again', async () => {
			await page.waitForFunction(() => ![...document.querySelectorAll(
			    'section[aria-label="wfail"] h2 .badge')].some((b) =>
				b.textContent === 'disabled'));
			return JSON.parse(cli('--json', 'workflow', 'show', 'wfail'))
			    .enabled === true;
		});
		const ef = 'form[aria-label="Edit wfail"]';
		await fill(ef + ' input[name=retries]', '2');
		await fill(ef + ' input[name=timeout]', '45');
		await page.click(ef + ' button[type=submit]');
		await check('the edit form changes the action in place', async () => {
			await page.waitForFunction((sel) => document.querySelector(
			    sel + ' input[name=retries]').value === '2', {}, ef);
			for (let i = 0; i < 50; i++) {
				const a = JSON.parse(cli('--json', 'workflow', 'show',
				    'wfail')).action;
				if (a.retries === 2 && a.timeout === 45)
					return true;
				await new Promise((r) => setTimeout(r, 100));
			}
			return false;
		});
		await shot('workflow-edit');
		// --- search events: a time range and a jq predicate --------
		const fs = require('fs');
		const needle = path.join(shots, 'needle.json');
		fs.writeFileSync(needle, JSON.stringify({ id: 'evt_needle',
		    object: 'event', type: 'batch.failed',
		    data: { id: 'needle-42', amount: 7 } }));
		const sent = JSON.parse(cli('--json', 'send', 'web1', '--event',
		    'batch.failed', '--file', needle));
		fs.unlinkSync(needle);
		const needleId = sent.response.event_id;
		const sf = 'form[aria-label="Search events"]';
		const rows = () => page.$$eval('main tbody tr a.mono',
		    (as) => as.map((a) => a.textContent));
		// Submit, and wait for the page drawn again with the answer.
		const search = async () => {
			await page.$eval(sf, (f) => { f.dataset.old = '1'; });
			await page.click(sf + ' button[type=submit]');
			await page.waitForFunction((sel) => {
				const f = document.querySelector(sel);
				return f && !f.dataset.old;
			}, {}, sf);
		};
		await go('#/audit', 'Audit log');
		await go('#/events', 'Events');
		await page.waitForSelector(sf);
		await page.select(sf + ' select[name=range]', '1h');
		await fill(sf + ' input[name=jq]', '.data.id == "needle-42"');
		await search();
		await check(`a jq predicate finds the one event (${needleId})`,
		    async () => {
			const r = await rows();
			return r.length === 1 && r[0] === needleId ||
			    Promise.reject(new Error(r.join(' ')));
		    });
		await check('the search is in the address, with the range',
		    async () => {
			const q = new URLSearchParams(new URL(page.url()).hash
			    .split('?')[1]);
			return q.get('since') === '1h' &&
			    q.get('jq') === '.data.id == "needle-42"';
		    });
		await check('and in the form again', async () =>
		    (await page.$eval(sf + ' input[name=jq]', (e) => e.value)) ===
		    '.data.id == "needle-42"' && (await page.$eval(sf +
		    ' select[name=range]', (e) => e.value)) === '1h');
		await shot('events-search');
		await fill(sf + ' input[name=jq]', '.data.id != "needle-42"');
		await search();
		await check('the opposite predicate lists the others', async () => {
			const r = await rows();
			return r.length > 0 && !r.includes(needleId);
		});
		// A range that ends before the event was received.
		await page.select(sf + ' select[name=range]', 'custom');
		await fill(sf + ' input[name=from]', '2020-01-01T00:00');
		await fill(sf + ' input[name=to]', '2020-01-02T00:00');
		await fill(sf + ' input[name=jq]', '.data.id == "needle-42"');
		await search();
		await check('a time range before it: no events', async () =>
		    (await page.$eval('main', (e) => e.textContent))
			.includes('No events match.'));
		await fill(sf + ' input[name=to]', '');
		await page.select(sf + ' select[name=range]', '');
		await fill(sf + ' input[name=jq]', '.data | [');
		expect400 = true;	/* the browser logs the answer */
		await search();
		await check('a bad jq program: its error under the field', async () => {
			await page.waitForSelector('#jq-error:not([hidden])');
			const t = await page.$eval('#jq-error', (e) => e.textContent);
			return t.includes('not a valid jq program') ||
			    Promise.reject(new Error(t));
		});
		await check('the field is marked invalid and has the focus',
		    async () => page.evaluate((sel) => {
			const i = document.querySelector(sel + ' input[name=jq]');
			return i.getAttribute('aria-invalid') === 'true' &&
			    document.activeElement === i;
		    }, sf));
		await shot('events-search-error');
		expect400 = false;
		await go('#/tail?stage=verifier', 'Tail');
		await new Promise((r) => setTimeout(r, 1000));
		cli('send', 'web1', '--event', 'batch.completed');
		await check('tail shows the verifier\'s messages live', async () => {
			await page.waitForFunction(() =>
			    document.querySelector('.live').childElementCount > 0,
			    { timeout: 30000 });
			return true;
		});
		await shot('tail');
		await go('#/audit', 'Audit log');
		await check('the audit log shows alice\'s changes', async () => {
			const t = await page.$eval('main', (e) => e.textContent);
			return t.includes('sub create') && t.includes('workflow trigger');
		});
		await shot('audit');
		// By keyboard alone, and on a phone's screen.
		await page.focus('header nav a[href="#/runs"]');
		await page.keyboard.press('Enter');
		await check('the pages are reached by keyboard', async () => {
			await page.waitForFunction(() =>
			    document.querySelector('main h1').textContent === 'Runs');
			return true;
		});
		await check('every form control has a label', async () =>
		    (await page.$$eval('main input, main select', (els) =>
			els.filter((e) => !e.closest('label') &&
			    !e.getAttribute('aria-label')).length)) === 0);
		await page.setViewport({ width: 390, height: 844, isMobile: true });
		await go('#/', 'Overview');
		await check('the overview fits a phone\'s width', async () =>
		    page.evaluate(() => document.documentElement.scrollWidth <= 400));
		await shot('overview-phone');
		await go('#/subscriptions', 'Subscriptions');
		await page.waitForSelector('main table');
		await shot('subscriptions-phone');
		await page.setViewport({ width: 1280, height: 900 });
		await check('no script errors', () => errors.length === 0 ||
		    Promise.reject(new Error(errors.join('; '))));
	} catch (e) {
		fail('the walk through the console', e.message);
		await shot('failure').catch(() => {});
	}
	await browser.close();
	process.exit(failed() ? 1 : 0);
})();
