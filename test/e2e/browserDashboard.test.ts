import 'reflect-metadata';
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { alive, killAll, pidsMatching, until } from '../support/processes.js';
import { EbbtideProcess } from '../support/upProcess.js';

/** Debian's chromium, installed by .ci/run. */
const CHROMIUM = '/usr/bin/chromium';
/**
 * The flags Chromium needs on these machines: headless as root, and none of its background
 * connections (the network is closed; without these it retries them by the dozen).
 */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// The functions below run in the page (Playwright serialises them); these name its globals for
// the compiler, which builds for Node without the DOM library.
declare const window: { ebbtide: { state: { data: number[][] } } };
declare const document: { getElementById(id: string): { textContent: string | null; dataset: Record<string, string | undefined> } | null; querySelector(s: string): unknown };

/** What the page's chart holds: [t, connected, requested, target, demand] columns. */
type ChartData = number[][];
const chartData = (page: Page) => page.evaluate(() => window.ebbtide.state.data) as Promise<ChartData>;
const rowStates = (page: Page) => page.$$eval('#workers tbody tr', (rows) => rows.map((r) => (r as unknown as { dataset: { state?: string } }).dataset.state ?? ''));
const running = async (page: Page) => (await rowStates(page)).filter((s) => s === 'running').length;

describe('the live page of `ebbtide demo`, in headless Chromium', function () {
  this.timeout(240_000);
  let demo: EbbtideProcess | undefined;
  let context: BrowserContext | undefined;
  let profile = '';
  let address = '';

  after(async () => {
    await context?.close().catch(() => undefined);
    if (profile) rmSync(profile, { recursive: true, force: true });
    const workers = address ? pidsMatching('ebbtide-worker', address) : [];
    if (demo?.running) demo.kill('SIGKILL');
    killAll(workers.filter(alive));
  });

  it('shows workers rise and fall, explains a decision, scales to 2 by hand and adapts again', async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium with apt-get`);
    demo = EbbtideProcess.start(['demo', '--duration', '60s', '--dashboard.port', '0']);
    await until(() => /dashboard at (http:\/\/127\.0\.0\.1:\d+)\//.test(demo!.stderr) || !demo!.running, 30_000, 'the dashboard URL');
    const url = /dashboard at (http:\/\/127\.0\.0\.1:\d+)\//.exec(demo.stderr)?.[1];
    expect(url, demo.stderr).to.be.a('string');
    address = /embedded scheduler at (tcp:\/\/\S+),/.exec(demo.stderr)![1]!;

    profile = mkdtempSync(join(tmpdir(), 'ebbtide-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 1400 } });
    const page = context.pages()[0] ?? (await context.newPage());
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    await page.goto(url! + '/');
    await page.waitForFunction(() => document.getElementById('repr')?.textContent?.startsWith('EbbtideCluster('), undefined, { timeout: 20_000 });

    // The workload's first burst: the chart and the table show the workers coming...
    await page.waitForFunction(() => Math.max(0, ...(window.ebbtide.state.data[1] ?? [])) >= 2, undefined, { timeout: 60_000 });
    await until(async () => (await running(page)) >= 2, 30_000, 'two running workers in the table');
    const peak = Math.max(...(await chartData(page))[1]!);
    // ...and going once it is done.
    await page.waitForFunction(
      (top) => {
        const c = window.ebbtide.state.data[1]!;
        return c.length > 0 && c[c.length - 1]! < top;
      },
      peak,
      { timeout: 90_000 },
    );
    await until(async () => (await running(page)) < peak, 30_000, 'fewer workers in the table');

    // Open a decision that scaled and read its reasons.
    const decision = page.locator('#decisions details[data-status="up"], #decisions details[data-status="down"]').first();
    await decision.locator('summary').click();
    await page.waitForFunction(() => document.querySelector('#decisions details[open][data-explained="true"] ul.reasons li'), undefined, { timeout: 10_000 });
    const reasons = await decision.locator('ul.reasons li').allTextContents();
    expect(reasons.some((r) => r.startsWith('why this target: the heuristic wants'))).to.equal(true);
    expect(reasons.some((r) => r.startsWith('done: '))).to.equal(true);

    // Scale to 2 by hand: manual mode, and 2 workers in the table and the chart.
    await page.fill('#scale-n', '2');
    await page.click('#scale-btn');
    await page.waitForFunction(() => document.getElementById('mode')?.dataset.mode === 'manual', undefined, { timeout: 10_000 });
    await until(async () => (await running(page)) === 2 && (await rowStates(page)).length === 2, 60_000, 'exactly 2 workers in the table');
    await page.waitForFunction(() => {
      const c = window.ebbtide.state.data[1]!;
      return c[c.length - 1] === 2;
    }, undefined, { timeout: 30_000 });
    expect(await page.textContent('#mode')).to.equal('manual: 2 workers');

    // Adapt: back to the heuristic, which moves the cluster away from the hand-picked 2.
    await page.click('#adapt-btn');
    await page.waitForFunction(() => document.getElementById('mode')?.dataset.mode === 'adaptive', undefined, { timeout: 10_000 });
    await until(async () => (await rowStates(page)).length !== 2, 90_000, 'the cluster to adapt away from 2');

    const shot = join(tmpdir(), `ebbtide-dashboard-${process.pid}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`      screenshot: ${shot}`);
    expect(problems, 'errors on the page').to.deep.equal([]);

    // The demo still verifies every result and ends at its minimum.
    const { code } = await demo.exited;
    expect(code, demo.stderr.slice(-2000)).to.equal(0);
  });
});
