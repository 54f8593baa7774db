import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  currentIno,
  detailsIno,
  focusIno,
  parseRoute,
  queryPart,
  searchHash,
  selectionRoute,
} from './route.js';

describe('hash routes', () => {
  it('parses each view, with or without the leading #', () => {
    assert.deepEqual(parseRoute('#/wiring').route, { view: 'wiring', ino: undefined, index: undefined });
    assert.deepEqual(parseRoute('#/wiring/4026532475').route, {
      view: 'wiring',
      ino: 4026532475,
      index: undefined,
    });
    assert.deepEqual(parseRoute('/wiring/4026532475/3').route, { view: 'wiring', ino: 4026532475, index: 3 });
    assert.deepEqual(parseRoute('#/netns/4026531840').route, { view: 'netns', ino: 4026531840 });
    assert.deepEqual(parseRoute('#/container/abc%2Fdef').route, { view: 'container', id: 'abc/def' });
  });

  it('shows the wiring view for an empty, unknown or malformed hash', () => {
    for (const hash of ['', '#', '#/nowhere', '#/netns/eth0', '#/container', '#/wiring/x/y'])
      assert.deepEqual(parseRoute(hash).route, { view: 'wiring', ino: undefined, index: undefined }, hash);
  });

  it('reads the search from ?q=, decoded, on any route', () => {
    assert.equal(parseRoute('#/wiring?q=10.0.2.15%20br0').q, '10.0.2.15 br0');
    assert.equal(parseRoute('#/netns/1?q=lab').q, 'lab');
    assert.equal(parseRoute('#/wiring').q, undefined);
  });

  it('links a selected interface so that the link opens it again, search included', () => {
    const { route, hash } = selectionRoute('4026532475/3', 'lab a&b');
    assert.equal(hash, '#/wiring/4026532475/3?q=lab%20a%26b');
    assert.deepEqual(route, { view: 'wiring', ino: 4026532475, index: 3 });
    const back = parseRoute(hash);
    assert.deepEqual(back.route, route);
    assert.equal(back.q, 'lab a&b');
  });

  it('drops the wiring focus but keeps a details page when the search changes', () => {
    assert.equal(
      searchHash({ view: 'wiring', ino: 7, index: 2 }, '#/wiring/7/2?q=old', 'new'),
      '#/wiring?q=new',
    );
    assert.equal(searchHash({ view: 'netns', ino: 7 }, '#/netns/7?q=old', 'new'), '#/netns/7?q=new');
    assert.equal(searchHash({ view: 'netns', ino: 7 }, '#/netns/7?q=old', ''), '#/netns/7');
    assert.equal(queryPart(''), '');
  });

  it('opens the focussed namespace (else the first hub) in the Details tab', () => {
    assert.equal(detailsIno({ view: 'wiring', ino: 7 }, 1), 7);
    assert.equal(detailsIno({ view: 'wiring' }, 1), 1);
    assert.equal(detailsIno({ view: 'netns', ino: 9 }, 1), 9);
    assert.equal(detailsIno({ view: 'container', id: 'c' }, 1), undefined);
  });

  it('marks the route namespace in the navigator, and outlines it only in the wiring view', () => {
    assert.equal(currentIno({ view: 'netns', ino: 9 }), 9);
    assert.equal(focusIno({ view: 'netns', ino: 9 }), undefined);
    assert.equal(focusIno({ view: 'wiring', ino: 9 }), 9);
    assert.equal(currentIno({ view: 'container', id: 'c' }), undefined);
  });
});
