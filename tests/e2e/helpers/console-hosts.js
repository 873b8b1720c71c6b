// The console in cluster mode, in a real browser, while host B does not
// answer (tests/cluster/13-run-copies.sh): the runs page has a Host
// column and shows B's runs as their copies; the event page of a run B
// made and has not run shows it from its claim, with no Replay.
//
//   HOST_B=... EVENT_ID=... node console-hosts.js LOGIN_URL SHOTS_DIR
'use strict';
const path = require('path');
const { fail, check, failed, browse, go: goTo } = require('./checks');

const [login, shots] = process.argv.slice(2);
const hostB = process.env.HOST_B, eventId = process.env.EVENT_ID;

(async () => {
	const { browser, page } = await browse();
	const errors = [];
	page.on('pageerror', (e) => errors.push(e.message));
	const go = (hash, title) => goTo(page, hash, title);
	// The rows of the page's last table: its cells' text, by column.
	const rows = () => page.$$eval('main table', (ts) => {
		const t = ts[ts.length - 1];
		const heads = [...t.querySelectorAll('thead th')].map((x) =>
		    x.textContent);
		return [...t.querySelectorAll('tbody tr')].map((tr) => {
			const o = {};
			[...tr.children].forEach((td, i) => {
				o[heads[i] || 'actions'] = td.textContent;
				if (!heads[i])
					o.replay = !!td.querySelector('button');
			});
			return o;
		});
	});

	try {
		await page.goto(login, { waitUntil: 'networkidle0' });
		await page.waitForFunction(() =>
		    document.querySelector('main h1')?.textContent === 'Overview');
		await go('#/runs', 'Runs');
		const list = await rows();
		const copy = hostB + ' (copy: the host does not answer)';
		const claim = hostB + ' (does not answer; no attempt ended)';
		await check('the runs page lists host B\'s runs, marked as copies, ' +
		    'and the one it has not run, from its claim', () =>
		    list.filter((r) => r.Host === copy).length === list.length - 1 &&
		    list.filter((r) => r.Host === claim && !r.replay).length === 1);
		await page.screenshot({ path: path.join(shots, 'runs.png'),
		    fullPage: true });
		await go('#/events/' + eventId, 'Event');
		const ev = await rows();
		await check('the event page shows the run host B made and did not ' +
		    'run, from its claim, with no Replay', () =>
		    ev.length === 1 && ev[0].Status === 'queued' &&
		    ev[0].Host === hostB + ' (does not answer; no attempt ended)' &&
		    !ev[0].replay);
		await page.screenshot({ path: path.join(shots, 'event.png'),
		    fullPage: true });
		await check('no script errors', () => errors.length === 0 ||
		    Promise.reject(new Error(errors.join('; '))));
	} catch (e) {
		const text = await page.evaluate(() =>
		    document.body.innerText.slice(0, 300)).catch(() => '');
		fail('the walk', e.message + ' (the page: ' + text + ')');
	}
	await browser.close();
	process.exit(failed() ? 1 : 0);
})();
