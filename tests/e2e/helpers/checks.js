// What the browser tests share: puppeteer-core from tests/npm, one
// "PASS what" or "FAIL what: why" line per check, the CLI.
'use strict';
const path = require('path');
const { execFileSync } = require('child_process');

const puppeteer = require(path.join(__dirname, '..', '..', 'npm',
    'node_modules', 'puppeteer-core'));
let failures = 0;

function pass(what) { console.log('PASS ' + what); }
function fail(what, why) {
	failures++;
	console.log('FAIL ' + what + ': ' + String(why).replace(/\n/g, ' '));
}
// Runs fn: a throw or a false is a failure; its value is returned.
async function check(what, fn) {
	try {
		const r = await fn();
		if (r === false)
			fail(what, 'false');
		else
			pass(what);
		return r;
	} catch (e) {
		fail(what, e.message);
		return undefined;
	}
}
function cli(...args) {
	return execFileSync('hookpipe', args, { encoding: 'utf8' });
}
const failed = () => failures;

// Headless Chromium (CHROMIUM, else Debian's) and a page of 1280 x 900
// whose waits end after 30 s.
async function browse() {
	const browser = await puppeteer.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
	});
	const page = await browser.newPage();
	await page.setViewport({ width: 1280, height: 900 });
	page.setDefaultTimeout(30000);
	return { browser, page };
}

// A console page by its hash, once its heading starts with title.
async function go(page, hash, title) {
	await page.evaluate((x) => { location.hash = x; }, hash);
	await page.waitForFunction((t) => {
		const h = document.querySelector('main h1');
		return h && h.textContent.startsWith(t);
	}, {}, title);
}

module.exports = { puppeteer, pass, fail, check, cli, failed, browse, go };
