// Subscriptions made with the provider, from the console (84-console-
// auto.sh): an API key pasted in the form, a stored credential, and the
// OAuth flow, against the fake providers. One "PASS what" or "FAIL
// what: why" line per check; screenshots go to SHOTS.
//
//   node console-auto.js LOGIN_URL SHOTS_DIR
'use strict';
const path = require('path');
const { pass, fail, check, cli, failed, browse } =
    require('./checks');

const [login, shots] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

(async () => {
	const { browser, page } = await browse();
	const errors = [];
	let expectErrors = false;
	page.on('pageerror', (e) => errors.push(e.message));
	page.on('console', (m) => {
		if (m.type() === 'error' && !(expectErrors &&
		    /status of 4\d\d/.test(m.text())))
			errors.push(m.text());
	});
	const requests = [];
	page.on('request', (r) => requests.push(r.url()));
	const shot = (name) => page.screenshot({ path: path.join(shots,
	    name + '.png'), fullPage: true });
	const fill = (sel, v) => page.$eval(sel, (e, x) => {
		e.value = x;
		e.dispatchEvent(new Event('input', { bubbles: true }));
	}, v);
	const F = 'form[aria-label="New subscription"]';
	const choose = async (sel, v) => {
		await page.waitForFunction((s, x) => [...document.querySelectorAll(
		    s + ' option')].some((o) => o.value === x), {}, sel, v);
		await page.select(sel, v);
	};
	const subs = () => JSON.parse(cli('--json', 'sub', 'list'));
	const hooks = async (p) => (await fetch(process.env.FAKE + '/_admin/hooks/' +
	    p, { method: 'POST' })).json();

	try {
		await page.goto(login, { waitUntil: 'networkidle0' });
		await page.evaluate(() => { location.hash = '#/subscriptions'; });
		await page.waitForSelector(F);

		// --- the modes the integration allows -----------------------
		await page.select(F + ' select[name=integration]', 'stripe');
		await check('Stripe offers manual and API key, not OAuth',
		    async () => {
			const m = await page.$$eval(F + ' select[name=mode] option',
			    (os) => os.map((o) => o.value).join(','));
			return m === 'manual,api-key' ||
			    Promise.reject(new Error(m));
		    });
		await page.select(F + ' select[name=integration]', 'openai');
		await check('OpenAI offers manual only', async () =>
		    (await page.$$eval(F + ' select[name=mode] option',
			(os) => os.map((o) => o.value).join(','))) === 'manual');

		// --- a refused key: the provider's answer, nothing made -----
		await fill(F + ' input[name=name]', 'pay');
		await page.select(F + ' select[name=integration]', 'stripe');
		await choose(F + ' select[name=mode]', 'api-key');
		await fill(F + ' input[name=events]', 'invoice.paid');
		await fill(F + ' input[name="api-key"]', 'bad-token-7731');
		expectErrors = true;
		await page.click(F + ' button[type=submit]');
		await check('a refused key shows the provider\'s answer', async () => {
			await page.waitForFunction(() =>
			    document.getElementById('sub-error').textContent !== '');
			const t = await page.$eval('#sub-error', (e) => e.textContent);
			return /not accepted/.test(t) && /401|invalid token/i.test(t) ||
			    Promise.reject(new Error(t));
		});
		expectErrors = false;
		await shot('refused');
		await check('and nothing is made: no subscription, no credential',
		    async () => subs().length === 0 &&
			JSON.parse(cli('--json', 'cred', 'list')).length === 0);
		await check('nor a webhook at the provider', async () =>
		    Object.keys(await hooks('stripe')).length === 0);

		// --- a good key: the webhook is made, its id listed ---------
		await fill(F + ' input[name="api-key"]', 'good-token');
		await page.click(F + ' button[type=submit]');
		const remote = await check('a good key makes the subscription',
		    async () => {
			await page.waitForSelector('[data-remote="pay"]');
			return page.$eval('[data-remote="pay"]', (e) => e.textContent);
		    });
		await check(`the list shows it with its remote id (${remote})`,
		    async () => {
			await page.waitForFunction((r) => [...document.querySelectorAll(
			    'main table tbody tr')].some((tr) =>
				tr.textContent.startsWith('pay') &&
				tr.textContent.includes(r)), {}, remote);
			return true;
		    });
		await check('the CLI agrees', async () => {
			const s = JSON.parse(cli('--json', 'sub', 'show', 'pay'));
			return s.mode === 'api-key' && s.remote_id === remote &&
			    s.credential === 'pay-key' ||
			    Promise.reject(new Error(JSON.stringify(s)));
		});
		await check('the provider has the webhook, to the callback URL',
		    async () => {
			const h = await hooks('stripe');
			const s = JSON.parse(cli('--json', 'sub', 'show', 'pay'));
			return h[remote] && h[remote].url === s.callback_url &&
			    h[remote].enabled_events.join(',') === 'invoice.paid';
		    });
		await shot('made');

		// --- a stored credential --------------------------------
		await fill(F + ' input[name=name]', 'pay2');
		await page.select(F + ' select[name=integration]', 'stripe');
		await choose(F + ' select[name=mode]', 'api-key');
		await choose(F + ' select[name=credential]', 'pay-key');
		await check('a stored credential needs no key', async () =>
		    page.$eval(F + ' input[name="api-key"]', (e) =>
			e.closest('[hidden]') !== null));
		await page.click(F + ' button[type=submit]');
		await check('and makes the subscription', async () => {
			await page.waitForSelector('[data-remote="pay2"]');
			return JSON.parse(cli('--json', 'sub', 'show', 'pay2'))
			    .credential === 'pay-key';
		});

		// --- a good key, a call the provider refuses ----------------
		await fill(F + ' input[name=name]', 'lost');
		await page.select(F + ' select[name=integration]', 'gitlab');
		await choose(F + ' select[name=mode]', 'api-key');
		await choose(F + ' select[name=credential]', '');
		await fill(F + ' input[name=param]', 'project=acme/missing');
		await fill(F + ' input[name="api-key"]', 'good-token');
		expectErrors = true;
		await page.click(F + ' button[type=submit]');
		await check('a webhook the provider refuses: its answer is shown',
		    async () => {
			await page.waitForFunction(() =>
			    document.getElementById('sub-error').textContent !== '');
			const t = await page.$eval('#sub-error', (e) => e.textContent);
			return t.includes('404 Project Not Found') ||
			    Promise.reject(new Error(t));
		    });
		expectErrors = false;
		await check('and neither it nor the key pasted for it is kept',
		    async () => {
			const c = JSON.parse(cli('--json', 'cred', 'list'))
			    .map((x) => x.name);
			return !subs().some((x) => x.name === 'lost') &&
			    !c.includes('lost-key') ||
			    Promise.reject(new Error(c.join(',')));
		    });
		await shot('refused-webhook');

		// --- OAuth: the provider's page, its callback ---------------
		await fill(F + ' input[name=name]', 'code');
		await page.select(F + ' select[name=integration]', 'gitlab');
		await choose(F + ' select[name=mode]', 'oauth');
		await fill(F + ' input[name=param]', 'project=acme/app');
		await fill(F + ' input[name="client-id"]', 'cid');
		await fill(F + ' input[name="client-secret"]', 'csecret');
		const opened = new Promise((res) => browser.on('targetcreated',
		    (t) => { if (t.url().includes('state=')) res(t.url()); }));
		await page.click(F + ' button[type=submit]');
		const url = await check('OAuth opens the provider\'s authorize page',
		    async () => {
			const u = await Promise.race([opened,
			    sleep(30000).then(() => null)]);
			return u || Promise.reject(new Error('no tab opened'));
		    });
		await check('and the console waits for the provider', async () =>
		    (await page.$eval('#sub-status', (e) => e.textContent))
			.includes('Waiting'));
		if (url) {
			// The provider sends the browser back to the receiver.
			const state = new URL(url).searchParams.get('state');
			const r = await fetch(process.env.TRIGGER_URL +
			    '/oauth/gitlab/callback?code=good-code&state=' +
			    encodeURIComponent(state));
			await check('the receiver\'s callback completes it',
			    () => r.status === 200);
			await check('then the console makes the subscription',
			    async () => {
				await page.waitForSelector('[data-remote="code"]',
				    { timeout: 30000 });
				const s = JSON.parse(cli('--json', 'sub', 'show',
				    'code'));
				return s.mode === 'oauth' &&
				    s.credential === 'code-oauth' && s.remote_id !== '';
			    });
		}
		await shot('oauth');
		await check('no secret ever in an address the browser asked for',
		    () => !requests.some((u) => /good-token|bad-token|csecret/
			.test(u)));
		await check('every control of the form has a label', async () =>
		    (await page.$$eval(F + ' input, ' + F + ' select', (els) =>
			els.filter((e) => !e.closest('label') &&
			    !e.getAttribute('aria-label')).length)) === 0);
		await check('no script errors', () => errors.length === 0 ||
		    Promise.reject(new Error(errors.join('; '))));
	} catch (e) {
		fail('the walk through automatic subscriptions', e.message);
		await shot('failure').catch(() => {});
	}
	await browser.close();
	process.exit(failed() ? 1 : 0);
})();
