// The review page in a real browser: headless Chromium (Debian's) driven by playwright-core.
// A memory is filled by the real CLI (a translation with the tiny Marian fixture model and a
// TMX import), `babeldesk serve` runs on loopback, and every check that matters is read back
// through the CLI. Run by `make test` (BABELDESK_BIN: the release binary).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import http from 'node:http';
import { chromium } from 'playwright-core';

const repo = resolve(import.meta.dirname, '../..');
const bin = process.env.BABELDESK_BIN || join(repo, 'target/release/babeldesk');
const marian = join(repo, 'tests/fixtures/models/tiny-marian-ru-en');
const shots = process.env.BABELDESK_SCREENSHOTS; // a folder: save the README's screenshots
const dir = mkdtempSync(join(tmpdir(), 'babeldesk-browser-'));
// BABELDESK_BROWSER_MEMORY: a PostgreSQL URL to run the suite on (make test does it twice).
const memory = process.env.BABELDESK_BROWSER_MEMORY || join(dir, 'memory.sqlite');
const env = {
  ...process.env,
  BABELDESK_MEMORY: memory,
  BABELDESK_ENGINE: process.env.BABELDESK_ENGINE || join(repo, 'target/release/babeldesk-engine'),
  XDG_CONFIG_HOME: join(dir, 'config'),
  XDG_CACHE_HOME: join(dir, 'cache'),
  XDG_DATA_HOME: join(dir, 'data'),
};
const DOC = [
  'Делегация провинции Цзянсу посетила Минск.',
  'Стороны обсудили научное сотрудничество.',
  'Университет подписал новые контракты.',
].join('\n') + '\n';
const XSS = '<script>alert(1)</script>';

let server, url, origin, browser, dialogs = 0;

function cli(...args) {
  return execFileSync(bin, args, { env, cwd: dir, encoding: 'utf8' });
}
const units = () => JSON.parse(cli('memory', 'list', '--format', 'json'));

function tmx(units) {
  const tus = units.map(([s, t]) => `<tu><tuv xml:lang="ru"><seg>${s}</seg></tuv><tuv xml:lang="en"><seg>${t}</seg></tuv></tu>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4"><header srclang="ru" datatype="plaintext" segtype="sentence" adminlang="en" o-tmf="test" creationtool="test" creationtoolversion="1"/><body>\n${tus.join('\n')}\n</body></tmx>\n`;
}
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

before(async () => {
  writeFileSync(join(dir, 'report.txt'), DOC);
  cli('translate', 'report.txt', '--model-dir', marian, '--from', 'ru', '-o', 'report.en.txt');
  writeFileSync(join(dir, 'xss.tmx'), tmx([[esc(XSS), esc(XSS + ' (en)')], ['Москва', 'Moscow']]));
  cli('memory', 'import', 'xss.tmx');
  server = spawn(bin, ['serve', '--port', '0'], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  url = await new Promise((ok, fail) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n')) ok(line.trim());
    });
    server.on('exit', (code) => fail(new Error(`serve exited with ${code}`)));
    setTimeout(() => fail(new Error('serve printed no URL in 20 s')), 20000);
  });
  origin = new URL(url).origin;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

async function page() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const p = await context.newPage();
  p.on('dialog', async (d) => { dialogs += 1; await d.dismiss(); });
  await p.goto(url); // the token becomes a cookie
  return p;
}

/// A raw request (any Host, no cookie): status and body.
function raw(path, headers = {}, method = 'GET', body = null) {
  const u = new URL(origin);
  return new Promise((ok, fail) => {
    const req = http.request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => ok({ status: res.statusCode, body: b, headers: res.headers }));
    });
    req.on('error', fail);
    if (body) req.write(body);
    req.end();
  });
}

test('the URL works and a request without the token is refused', async () => {
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{32}$/);
  const token = new URL(url).searchParams.get('token');
  // The cookie is named for this instance's port (instances on one host keep theirs apart).
  const name = `babeldesk_token_${new URL(url).port}`;
  assert.equal((await raw('/')).status, 401);
  assert.equal((await raw('/units', { Cookie: `${name}=wrong` })).status, 401);
  // DNS rebinding: the right token under another host name.
  assert.equal((await raw('/', { Host: 'attacker.example', Cookie: `${name}=${token}` })).status, 421);
  const ok = await raw('/', { Cookie: `${name}=${token}` });
  assert.equal(ok.status, 200);
  assert.match(ok.headers['content-security-policy'], /script-src 'self'/);
  // A change without the page's CSRF token changes nothing.
  const before = units();
  const post = await raw(`/unit/${before[0].id}/status`, {
    Cookie: `${name}=${token}`, 'Content-Type': 'application/x-www-form-urlencoded',
  }, 'POST', 'status=rejected&csrf=forged');
  assert.equal(post.status, 403);
  assert.deepEqual(units(), before);
});

test('open a document, edit a segment with the keyboard, approve it; the next translate reuses the fix', async () => {
  const p = await page();
  await p.click('a.doc-link');
  await p.waitForSelector('tr.segment.current'); // the keyboard script has run
  assert.equal(await p.locator('tr.segment').count(), 3);
  assert.equal(await p.locator('tr.segment.band-model').count(), 3, 'all made by the model');
  if (shots) await p.screenshot({ path: join(shots, 'document.png'), fullPage: true });
  await p.keyboard.press('ArrowDown');
  await p.keyboard.press('e');
  const area = p.locator('tr.segment.current textarea');
  await area.fill('The parties discussed scientific cooperation.');
  await Promise.all([p.waitForNavigation(), p.keyboard.press('Control+Enter')]);
  const row = p.locator('tr.segment').nth(1);
  assert.equal((await row.locator('.text').textContent()).trim(), 'The parties discussed scientific cooperation.');
  assert.match(await row.getAttribute('class'), /origin-human/);
  await Promise.all([p.waitForNavigation(), p.keyboard.press('a')]);
  assert.match(await p.locator('tr.segment').nth(1).getAttribute('class'), /status-approved/);
  // The database says the same.
  const edited = units().find((u) => u.source === 'Стороны обсудили научное сотрудничество.');
  assert.equal(edited.target, 'The parties discussed scientific cooperation.');
  assert.equal(edited.origin, 'human');
  assert.equal(edited.status, 'approved');
  // And the next translation of the document takes the fix from the memory.
  cli('translate', 'report.txt', '--model-dir', marian, '--from', 'ru', '-o', 'again.en.txt');
  assert.match(readFileSync(join(dir, 'again.en.txt'), 'utf8'), /The parties discussed scientific cooperation\./);
  // The document screen now shows every segment as a memory match.
  await p.goto(`${origin}/doc?name=report.txt`);
  assert.equal(await p.locator('tr.segment.band-memory').count(), 3);
  assert.equal((await p.locator('tr.segment').nth(1).locator('.badge.band').textContent()).trim(), 'memory 101');
  // The unit page shows the change as a word diff.
  await p.goto(`${origin}/unit/${edited.id}`);
  assert.ok(await p.locator('.history .added').count() >= 1);
  await p.close();
});

test('search, filter and reject in bulk in the memory browser', async () => {
  const p = await page();
  await p.goto(`${origin}/units`);
  const all = await p.locator('tr.unit').count();
  assert.equal(all, units().length);
  await p.fill('input[name="q"]', 'Москва');
  await Promise.all([p.waitForNavigation(), p.click('#search')]);
  assert.equal(await p.locator('tr.unit').count(), 1);
  assert.equal((await p.locator('tr.unit td.target').textContent()).trim(), 'Moscow');
  await p.goto(`${origin}/units?origin=human`);
  assert.equal(await p.locator('tr.unit').count(), 1);
  await p.goto(`${origin}/units?from=ru&to=en&fuzzy=${encodeURIComponent('Стороны обсудили сотрудничество.')}`);
  assert.ok(await p.locator('td.score').count() >= 1);
  // Select the Moscow unit and reject it.
  await p.goto(`${origin}/units?q=${encodeURIComponent('Москва')}`);
  await p.check('tr.unit input[name="id"]');
  await Promise.all([p.waitForNavigation(), p.click('button[value="reject"]')]);
  assert.equal(units().find((u) => u.source === 'Москва').status, 'rejected');
  if (shots) {
    await p.goto(`${origin}/units`);
    await p.screenshot({ path: join(shots, 'memory.png'), fullPage: true });
    await p.goto(`${origin}/stats`);
    await p.screenshot({ path: join(shots, 'stats.png') });
  }
  await p.close();
});

test('a TMX with an error says where and changes nothing', async () => {
  const p = await page();
  const before = units();
  const bad = join(dir, 'bad.tmx');
  writeFileSync(bad, tmx([['Один', 'One']]).replace('</seg></tuv><tuv', '</seg></tuv><tuv <'));
  await p.goto(`${origin}/import`);
  await p.setInputFiles('input[type="file"]', bad);
  await Promise.all([p.waitForNavigation(), p.click('#upload')]);
  assert.match(await p.locator('#import-error').textContent(), /bad\.tmx:\d+:\d+/);
  assert.deepEqual(units(), before);
  const good = join(dir, 'good.tmx');
  writeFileSync(good, tmx([['Один', 'One']]));
  await p.goto(`${origin}/import`);
  await p.setInputFiles('input[type="file"]', good);
  await Promise.all([p.waitForNavigation(), p.click('#upload')]);
  assert.match(await p.locator('#import-done').textContent(), /1 added/);
  assert.equal(units().length, before.length + 1);
  await p.close();
});

test('a unit whose text is a script renders as text', async () => {
  const p = await page();
  await p.goto(`${origin}/units?q=${encodeURIComponent('alert')}`);
  assert.equal((await p.locator('tr.unit td.source').first().textContent()).trim(), XSS);
  const id = units().find((u) => u.source === XSS).id;
  await p.goto(`${origin}/unit/${id}`);
  assert.equal((await p.locator('tr.this td.source').textContent()).trim(), XSS);
  assert.equal(await p.locator('main script').count(), 0);
  await p.waitForTimeout(200);
  assert.equal(dialogs, 0, 'no script from the memory ran');
  await p.close();
});
