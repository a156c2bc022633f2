// The dashboard in a real headless Chromium (Debian's, driven by playwright-core) against the
// real `ntlmscope serve` on loopback, over the demo domain plus a hostile account name.
// usage: node dashboard.test.mjs NTLMSCOPE SCREENSHOT_DIR
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [BIN, SHOTS] = process.argv.slice(2);
const WORK = mkdtempSync(join(tmpdir(), 'ntlmscope-dash-'));
const HOSTILE = '<img src=x onerror=alert(1)>';
let passed = 0, failed = 0;
function check(what, cond, detail) {
  if (cond) { passed++; console.log('ok - ' + what); }
  else { failed++; console.log('FAIL - ' + what + (detail === undefined ? '' : ': ' + JSON.stringify(detail))); }
}

const today = new Date().toISOString().slice(0, 10);
const db = join(WORK, 'dash.db');
let server, browser;

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  // the demo domain ending today, and one event with a hostile account name
  let r = spawnSync(BIN, ['demo', '--db', db, '--days', '42', '--seed', '5'], { encoding: 'utf8' });
  check('demo database created', r.status === 0, r.stderr);
  const hostileXml = `<Event><System><Provider Name="Microsoft-Windows-NTLM"/><EventID>4021</EventID>
<Level>3</Level><TimeCreated SystemTime="${today}T00:00:01.0000000Z"/><EventRecordID>1</EventRecordID>
<Channel>Microsoft-Windows-NTLM/Operational</Channel><Computer>EVIL01</Computer></System><EventData>
<Data Name="Username">&lt;img src=x onerror=alert(1)&gt;</Data><Data Name="DomainName">&lt;script&gt;alert(2)&lt;/script&gt;</Data>
<Data Name="ProcessName">C:\\x\\"onmouseover=alert(3).exe</Data><Data Name="TargetMachine">FS01</Data>
<Data Name="NtlmUsageId">7</Data><Data Name="NtlmVersion">NTLMv1</Data></EventData></Event>`;
  writeFileSync(join(WORK, 'hostile.xml'), hostileXml);
  r = spawnSync(BIN, ['ingest', '--db', db, join(WORK, 'hostile.xml')], { encoding: 'utf8' });
  check('hostile event ingested', r.status === 0 && /1 stored/.test(r.stdout), r.stdout + r.stderr);

  // the server on a free loopback port
  const portFile = join(WORK, 'port');
  server = spawn(BIN, ['serve', '--db', db, '--listen', '127.0.0.1:0', '--port-file', portFile],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr.on('data', (d) => { log += d; });
  for (let i = 0; i < 200 && !existsSync(portFile); i++) await new Promise((res) => setTimeout(res, 25));
  const port = Number(readFileSync(portFile, 'utf8'));
  const base = `http://127.0.0.1:${port}`;
  check('server listening', port > 0, log);
  const api = async (path) => {
    const res = await fetch(base + path);
    const bytes = Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, bytes, text: bytes.toString('utf8') };
  };

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const consoleErrors = [], foreign = [], dialogs = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  page.on('request', (q) => {
    const u = q.url();
    if (!u.startsWith(base + '/') && !u.startsWith('data:') && !u.startsWith('blob:')) foreign.push(u);
  });
  // the page on screen is marked stale before an action, then a fresh page is awaited
  const fresh = async (action) => {
    await page.evaluate(() => { const c = document.querySelector('#main > *'); if (c) c.setAttribute('data-stale', '1'); }).catch(() => {});
    await action();
    await page.waitForSelector('#main > [data-ready="1"]:not([data-stale]), #main > .error:not([data-stale])', { timeout: 20000 });
  };
  const open = (hash) => fresh(() => page.goto(base + '/' + hash));

  // every page loads, with no error
  const pages = ['overview', 'dependencies', 'accounts', 'processes', 'reasons', 'targets', 'clients',
    'ntlmv1', 'readiness', 'coverage'];
  for (const p of pages) {
    await open('#/' + p);
    const err = await page.$('#main .error');
    check(`page ${p} loads`, !err, err ? await err.textContent() : undefined);
  }

  // the overview: KPIs and the trend chart with one point per day for each series
  await open('#/overview');
  const trend = JSON.parse((await api(`/api/v1/views/trend?since=${addDays(today, -29)}&until=${today}`)).text);
  const days = dayNum(trend[trend.length - 1].day) - dayNum(trend[0].day) + 1;
  for (const s of ['events', 'ntlmv1_events', 'warnings', 'blocked']) {
    const n = await page.$$eval(`#trend g[data-series="${s}"] circle`, (c) => c.length);
    check(`trend chart: ${s} has one point per day (${days})`, n === days, n);
  }
  const kpis = await page.$$eval('#kpis .kpi', (k) => k.length);
  check('overview shows the seven week-over-week figures', kpis === 7, kpis);
  const reasons = JSON.parse((await api(`/api/v1/views/reasons?since=${addDays(today, -29)}&until=${today}`)).text);
  const bars = await page.$$eval('#reasons-chart rect.bar', (b) => b.length);
  check('reasons chart: one bar per reason', bars === reasons.length && bars > 5, [bars, reasons.length]);
  await page.screenshot({ path: join(SHOTS, 'overview.png'), fullPage: true });

  // dependencies: a filter changes the table and the URL
  await open('#/dependencies');
  const before = await page.textContent('#count');
  await fresh(() => page.selectOption('select[aria-label="NTLM version"]', 'NTLMv1'));
  const after = await page.textContent('#count');
  const versions = await page.$$eval('#main tbody tr td:nth-child(10)', (t) => t.map((x) => x.textContent));
  check('filter: the URL carries it', page.url().includes('version=NTLMv1'), page.url());
  check('filter: the table changes', before !== after && versions.length > 0 && versions.every((v) => v === 'NTLMv1'),
    [before, after, versions.slice(0, 3)]);
  // a link reproduces the view
  const link = page.url();
  await page.goto('about:blank');
  await open(link.slice(base.length + 1));
  check('the URL reproduces the filtered view', (await page.textContent('#count')) === after);
  // sorting by clicking a header
  await fresh(() => page.click('th[data-key="events"]'));
  check('sorting is in the URL', page.url().includes('sort=events'), page.url());
  const ev = await page.$$eval('#main tbody tr td:nth-child(11)', (t) => t.map((x) => Number(x.textContent.replace(/,/g, ''))));
  check('sort by events ascending', ev.length > 1 && ev.every((v, i) => i === 0 || ev[i - 1] <= v), ev.slice(0, 5));

  // a row drills down to its events
  await open('#/dependencies');
  const firstEvents = Number((await page.textContent('#main tbody tr:first-child td:nth-child(11)')).replace(/,/g, ''));
  await page.click('#main tbody tr:first-child');
  await page.waitForSelector('#drill:not([hidden]) table');
  const drillRows = await page.$$eval('#drill tbody tr', (t) => t.length);
  check('drill-down lists the events behind the row', drillRows === Math.min(100, firstEvents), [drillRows, firstEvents]);
  await page.screenshot({ path: join(SHOTS, 'dependencies.png') });

  // the CSV download is what the API gives for the same view
  await open('#/dependencies?sort=events&dir=desc');
  const href = await page.getAttribute('.downloads a[download$=".csv"]', 'href');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('.downloads a[download$=".csv"]')]);
  const file = join(WORK, 'dl.csv');
  await download.saveAs(file);
  const fromApi = await api(href);
  const got = readFileSync(file);
  check('CSV download equals the API answer byte for byte', got.equals(fromApi.bytes) && got.length > 100,
    [got.length, fromApi.bytes.length]);
  const shownRows = await page.$$eval('#main > div > section.panel tbody tr', (t) => t.length);
  check('the CSV holds exactly the rows shown', fromApi.text.trim().split('\r\n').length - 1 === shownRows,
    [fromApi.text.trim().split('\r\n').length - 1, shownRows]);

  // hostile names are text
  await open('#/accounts?q=img');
  const cellText = await page.textContent('#main tbody tr:first-child td:first-child a');
  check('a hostile account shows as text', cellText === HOSTILE, cellText);
  const imgs = await page.$$eval('img', (i) => i.length);
  check('no element was created from the data', imgs === 0, imgs);
  await open('#/ntlmv1');
  await open('#/dependencies?account=' + encodeURIComponent(HOSTILE));
  const chip = await page.textContent('.chip');
  check('a hostile filter value is shown as text', chip.includes(HOSTILE), chip);
  await page.click('#main tbody tr:first-child');
  await page.waitForSelector('#drill:not([hidden]) table');
  check('the drill-down of the hostile row lists it', (await page.$$eval('#drill tbody tr', (t) => t.length)) === 1);
  check('nothing ran: no dialog opened', dialogs.length === 0, dialogs);

  // readiness: the burn-down has one point per day
  await open('#/readiness');
  const burn = JSON.parse((await api(`/api/v1/views/burndown?since=${addDays(today, -29)}&until=${today}`)).text);
  const bdays = dayNum(burn[burn.length - 1].day) - dayNum(burn[0].day) + 1;
  const bpts = await page.$$eval('#burndown g[data-series="active_dependencies"] circle', (c) => c.length);
  check('burn-down chart: one point per day', bpts === bdays, [bpts, bdays]);
  const statuses = await page.$$eval('#main .badge.bad, #main .badge.good, #main .badge.warn', (b) => b.length);
  check('readiness shows a status per target', statuses > 3, statuses);
  await page.screenshot({ path: join(SHOTS, 'readiness.png'), fullPage: true });

  // coverage flags silent hosts
  await open('#/coverage');
  check('coverage lists the reporting hosts', (await page.$$eval('#main tbody tr', (t) => t.length)) > 10);

  // the security headers and the page's own requests
  const head = await api('/');
  check('CSP forbids inline script and foreign origins',
    /script-src 'self'/.test(head.headers.get('content-security-policy') || '') &&
    !/unsafe-inline/.test(head.headers.get('content-security-policy') || ''));
  check('no request left 127.0.0.1', foreign.length === 0, foreign);
  check('no console error on any page', consoleErrors.length === 0, consoleErrors);
}

function addDays(day, n) {
  const d = new Date(day + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
function dayNum(day) { return Math.round(Date.parse(day + 'T00:00:00Z') / 86400000); }

const timer = setTimeout(() => { console.log('FAIL - the test ran out of time'); process.exit(1); }, 240000);
try {
  await main();
} catch (e) {
  failed++;
  console.log('FAIL - ' + (e && e.stack ? e.stack : e));
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) server.kill('SIGTERM');
  rmSync(WORK, { recursive: true, force: true });
  clearTimeout(timer);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
