/**
 * The UI's hash routes, parsed and written (no DOM, unit-tested in Node):
 *
 *   #/wiring                       the wiring diagram
 *   #/wiring/<netns>[/<ifindex>]   …focussed on a namespace (and an interface)
 *   #/netns/<netns>                details of a network namespace
 *   #/container/<id>               details of a container
 *   any route may end in ?q=<search>
 *
 * Every view is a link, so a shared URL opens the same namespace, interface
 * and search.
 */

export type Route =
  | { view: 'wiring'; ino?: number; index?: number }
  | { view: 'netns'; ino: number }
  | { view: 'container'; id: string };

const NUMBER = /^\d+$/;

/** A location hash (with or without "#") as a route and its search, if it has one. */
export function parseRoute(hash: string): { route: Route; q: string | undefined } {
  const [path = '', qs = ''] = hash.replace(/^#/, '').split('?');
  const q = new URLSearchParams(qs).get('q') ?? undefined;
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'netns' && NUMBER.test(parts[1] ?? ''))
    return { route: { view: 'netns', ino: Number(parts[1]) }, q };
  if (parts[0] === 'container' && parts[1])
    return { route: { view: 'container', id: decodeURIComponent(parts[1]) }, q };
  // Anything else is the wiring view: a stale or mistyped link still shows the diagram.
  const ino = NUMBER.test(parts[1] ?? '') ? Number(parts[1]) : undefined;
  const index = NUMBER.test(parts[2] ?? '') ? Number(parts[2]) : undefined;
  return { route: { view: 'wiring', ino, index }, q };
}

/** The "?q=…" a route ends in for a search, or "" without one. */
export const queryPart = (query: string): string => (query ? `?q=${encodeURIComponent(query)}` : '');

/** The route and hash of an interface selected in the wiring view (its key is "netns/index"). */
export function selectionRoute(key: string, query: string): { route: Route; hash: string } {
  const [ino, idx] = key.split('/');
  return {
    route: { view: 'wiring', ino: Number(ino), index: Number(idx) },
    hash: `#/wiring/${ino}/${idx}${queryPart(query)}`,
  };
}

/**
 * The hash after the search changed: the wiring view drops its focus (the
 * focussed namespace may not match the new search), a details view keeps its
 * object.
 */
export function searchHash(route: Route, hash: string, query: string): string {
  const base = route.view === 'wiring' ? '#/wiring' : hash.split('?')[0];
  return `${base}${queryPart(query)}`;
}

/** The namespace whose details the Details tab opens: the focussed one, else the first hub. */
export function detailsIno(route: Route, firstHub: number | undefined): number | undefined {
  if (route.view === 'wiring') return route.ino ?? firstHub;
  return route.view === 'netns' ? route.ino : undefined;
}

/** The namespace the navigator marks as current. */
export const currentIno = (route: Route): number | undefined =>
  route.view === 'netns' || route.view === 'wiring' ? route.ino : undefined;

/** The namespace the wiring view outlines (only the wiring view focusses). */
export const focusIno = (route: Route): number | undefined =>
  route.view === 'wiring' ? route.ino : undefined;
