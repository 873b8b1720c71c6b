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

module.exports = { puppeteer, pass, fail, check, cli, failed };
