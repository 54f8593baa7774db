/**
 * `serve --verify` in the web UI (headless Chromium): a clean lab shows a
 * "lab clean" badge; after a veth is deleted, an address changed and an
 * undeclared device added inside the lab, the wiring view marks them live —
 * dashed placeholders for the missing veth ends, a "~" badge with the
 * declared and found values, a "+" on the extra device — and the drift
 * panel lists every difference with a link that selects the object.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { VerifyReport } from './drift.js';
import { type RunningService, startService } from './server.js';
import { type Browser, openUi, screenshotOf } from './testing/browser.js';
import { raw } from './testing/http.js';
import { type DriftLab, driftLab, dropDriftLab, ipIn } from './testing/lab.js';

const SHOTS = resolve(import.meta.dirname, '../../screenshots');

describe('web UI marks a lab’s drift in the wiring view (serve --verify)', () => {
  let lab: DriftLab | undefined;
  let svc: RunningService | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const errors: string[] = [];
  let nodes: Record<string, number | undefined> = {};

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    lab = await driftLab();
    svc = await startService({ listen: { host: '127.0.0.1', port: 0 }, engines: false, verify: [lab.file] });
    nodes = (JSON.parse((await raw(svc.url, '/api/verify?fresh=1')).body) as VerifyReport).labs[0]!.nodes;
    // Only this lab's namespaces (plus the host hub): other tests' namespaces may exist on the host.
    ({ browser, page } = await openUi(`${svc.url}/#/wiring?q=${lab.name}`, errors));
  });
  after(async () => {
    await browser?.close();
    await svc?.close();
    await dropDriftLab(lab);
  });

  const card = (node: string) => page.locator(`.card[data-ino="${nodes[node]}"]`);
  const row = (node: string, name: string) =>
    card(node).locator('.row', { has: page.locator('.name', { hasText: new RegExp(`^${name}$`) }) });

  it('shows "lab clean" and no drift marks while the kernel matches the file', async () => {
    const panel = page.locator('#drift-panel');
    await panel.waitFor();
    await panel.locator('.lab-badge.clean', { hasText: 'lab clean' }).waitFor();
    assert.match((await panel.locator('.dlab-name').textContent()) ?? '', new RegExp(`^${lab!.name}$`));
    await page.locator('#status .lab-badge.clean').waitFor();
    for (const n of ['a', 'b', 'c']) {
      await card(n).waitFor();
      // Titled after the node, subtitled with its lab, once (discovery and --verify both know it).
      assert.equal(await card(n).locator('.title').textContent(), n);
      assert.equal(await card(n).locator('.sub').textContent(), `lab node · lab ${lab!.name}`);
    }
    assert.equal(await page.locator('.card.drift, .row.ghost, .dbadge').count(), 0);
    await page.screenshot({ path: `${SHOTS}/drift-clean.png` });
  });

  it('marks a deleted veth, a changed address and an undeclared device live', async () => {
    ipIn(lab!.name, 'a', 'link', 'del', 'eth2');
    ipIn(lab!.name, 'b', 'addr', 'del', '10.231.0.2/24', 'dev', 'eth1');
    ipIn(lab!.name, 'b', 'addr', 'add', '10.231.0.9/24', 'dev', 'eth1');
    ipIn(lab!.name, 'c', 'link', 'add', 'x0', 'type', 'bridge');

    // Missing: a dashed placeholder on both cards, a dashed wire between them.
    const ghostA = card('a').locator('.row.ghost', { hasText: 'eth2' });
    await ghostA.waitFor({ timeout: 20_000 });
    assert.match((await ghostA.locator('.addr').textContent()) ?? '', /^declared veth$/);
    await card('c').locator('.row.ghost', { hasText: 'eth1' }).waitFor();
    assert.equal(await page.locator('svg.wires path.w-ghost').count(), 1);
    assert.equal(await ghostA.locator('.chip').textContent(), 'missing');
    assert.match((await card('a').getAttribute('class')) ?? '', /\bdrift-missing\b/);

    // Changed: the row is marked and its badge says what was declared and what was found.
    await row('b', 'eth1').and(page.locator('.drift-changed')).waitFor();
    const badge = row('b', 'eth1').locator('.dbadge.d-changed');
    assert.equal(await badge.textContent(), '~');
    assert.equal(
      await badge.getAttribute('title'),
      '~ b:eth1.ipv4: declared 10.231.0.2/24, found 10.231.0.9/24',
    );
    assert.match((await row('b', 'eth1').locator('.addr').textContent()) ?? '', /^10\.231\.0\.9\/24/);

    // Extra: the undeclared bridge in c.
    await row('c', 'x0').and(page.locator('.drift-extra')).waitFor();
    assert.equal(await row('c', 'x0').locator('.dbadge.d-extra').textContent(), '+');

    // The panel: no clean badge any more, one line per difference, grouped by object.
    const panel = page.locator('#drift-panel');
    assert.equal(await panel.locator('.lab-badge.clean').count(), 0);
    await page.locator('#status .lab-badge.drift').waitFor();
    const items = await panel
      .locator('.ditem')
      .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-op')} ${e.textContent}`).sort());
    assert.deepEqual(items, [
      'changed ~ b:eth1.ipv4: declared 10.231.0.2/24, found 10.231.0.9/24',
      'extra + c:x0 (bridge): present, undeclared',
      'missing − a:eth2 <-> c:eth1 (veth): declared, missing',
    ]);
    // The live-change log says what happened to the lab, the legend explains the dashed wire.
    await page.locator('#changes li', { hasText: `lab ${lab!.name}: drift −1 ~1 +1` }).waitFor();
    // ... and, under each changed namespace, what changed in it (as `wirescope watch` says it).
    // The log shows the newest 30 entries: on a busy host other namespaces' changes can push ours
    // out, so it is searched for the lab as a user would (entries match as their cards do).
    await page.fill('#search', lab!.name);
    const details = page.locator('#changes .cdetail li');
    await details
      .filter({ hasText: /^\+ eth1 address 10\.231\.0\.9\/24$/ })
      .first()
      .waitFor();
    await details
      .filter({ hasText: /^- eth1 address 10\.231\.0\.2\/24$/ })
      .first()
      .waitFor();
    await details
      .filter({ hasText: /^\+ x0 \(bridge\)$/ })
      .first()
      .waitFor();
    await page.fill('#search', '');
    assert.equal(await page.locator('.legend .legend-drift').isVisible(), true);
    assert.deepEqual(errors, []);
    await card('a').scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/drift-marks.png` });
    // The cards are shot with the lab searched for: on a host with many other namespaces
    // (other tests', other users') the whole wiring view is large and keeps being redrawn.
    await page.fill('#search', lab!.name);
    await screenshotOf(card('b'), `${SHOTS}/drift-card-changed.png`);
    await screenshotOf(card('a'), `${SHOTS}/drift-card-missing.png`);
    await screenshotOf(card('c'), `${SHOTS}/drift-card-extra.png`);
    await page.fill('#search', '');
  });

  it('selects the object from the drift panel', async () => {
    await page.locator('#drift-panel .ditem.d-changed a').click();
    await row('b', 'eth1').and(page.locator('.sel')).waitFor();
    assert.match(page.url(), new RegExp(`#/wiring/${nodes.b}/\\d+`));
    await page.locator('#drift-panel .ditem.d-missing a').click();
    await page.locator(`.card.focus[data-ino="${nodes.a}"]`).waitFor();
    await page.screenshot({ path: `${SHOTS}/drift-selected.png` });
    await page.click('#theme');
    await page.screenshot({ path: `${SHOTS}/drift-dark.png` });
    await page.click('#theme');
  });
});
