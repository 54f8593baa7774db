/** The details view of one network namespace, and of one container. */

import { DEFAULT_CONTAINER_CAPS, decodeCaps, isFullSet } from './caps.js';
import { type CapturePanel, type CaptureScope, capturePanel } from './capture.js';
import { checkSection } from './check.js';
import { forwardedRow, processOf, routingRows, servingSockets, sharedDns } from './details-rows.js';
import { h } from './dom.js';
import { type CardInfo, type Graph, ikey } from './graph.js';
import type { Container, Discovery, Dns, Interface, NetworkNamespace, SocketOwner } from './model.js';

const table = (cls: string, head: string[], rows: (Node | string)[][], empty = 'none'): HTMLElement =>
  rows.length === 0
    ? h('p', { class: 'empty' }, empty)
    : h(
        'table',
        { class: `grid ${cls}` },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            head.map((c) => h('th', null, c)),
          ),
        ),
        h(
          'tbody',
          null,
          rows.map((r) =>
            h(
              'tr',
              null,
              r.map((c) => h('td', null, c)),
            ),
          ),
        ),
      );

const section = (title: string, id: string, ...body: (Node | string)[]): HTMLElement =>
  h('section', { class: 'detail-section', id: `sec-${id}` }, h('h3', null, title), ...body);

export function capsView(capBnd: string | undefined, container: boolean): HTMLElement {
  if (!capBnd) return h('span', { class: 'muted' }, 'unknown');
  const caps = decodeCaps(capBnd);
  if (isFullSet(caps)) {
    return h(
      'span',
      { class: container ? 'cap cap-extra' : 'cap', title: capBnd },
      'all capabilities',
      container ? ' (privileged)' : '',
    );
  }
  return h(
    'span',
    { class: 'caps', title: capBnd },
    caps.map((c) =>
      h(
        'span',
        {
          class: `cap${container && !DEFAULT_CONTAINER_CAPS.has(c) ? ' cap-extra' : ''}`,
          title: container && !DEFAULT_CONTAINER_CAPS.has(c) ? 'not in the default container set' : '',
        },
        c,
      ),
    ),
  );
}

const labelsView = (labels: Readonly<Record<string, string>>): Node => {
  const entries = Object.entries(labels);
  if (entries.length === 0) return h('span', { class: 'muted' }, '—');
  const list = h(
    'ul',
    { class: 'labels' },
    entries.map(([k, v]) => h('li', null, h('code', null, k), '=', h('code', null, v))),
  );
  return entries.length > 4 ? h('details', null, h('summary', null, `${entries.length} labels`), list) : list;
};

const ifLink = (g: Graph, ref: { netns: number; index: number } | undefined, here: number): Node | string => {
  if (!ref) return '';
  const i = g.ifaces.get(ikey(ref.netns, ref.index));
  const name = i?.name ?? `#${ref.index}`;
  if (ref.netns === here) return name;
  const where = g.cards.get(ref.netns)?.title ?? `netns ${ref.netns}`;
  return h('a', { href: `#/wiring/${ref.netns}/${ref.index}` }, `${name} @ ${where}`);
};

function ownersView(owners: readonly SocketOwner[], d: Discovery): Node {
  if (owners.length === 0) return h('span', { class: 'muted' }, 'no owner found');
  return h(
    'span',
    null,
    owners.map((o, i) => [
      i > 0 ? ', ' : '',
      h('span', { title: o.cmdline.join(' ') }, `${o.comm} (${o.pid})`),
      o.container && d.containers[o.container]
        ? [
            ' in ',
            h(
              'a',
              { href: `#/container/${encodeURIComponent(o.container)}` },
              d.containers[o.container]!.name,
            ),
          ]
        : '',
    ]),
  );
}

function dnsView(dns: Dns): HTMLElement {
  const rc = dns.resolvConf;
  return h(
    'dl',
    { class: 'kv' },
    h('dt', null, 'UTS hostname'),
    h('dd', null, dns.utsHostname ?? '—'),
    h('dt', null, '/etc/hostname'),
    h('dd', null, dns.etcHostname ?? '—'),
    h('dt', null, 'nameservers'),
    h('dd', null, rc?.nameservers.join(', ') || '—'),
    h('dt', null, 'search'),
    h('dd', null, rc?.search.join(' ') || '—'),
    h('dt', null, '/etc/hosts'),
    h(
      'dd',
      null,
      dns.hosts.length
        ? h(
            'ul',
            { class: 'hosts' },
            dns.hosts.map((e) => h('li', null, h('code', null, e.address), ' ', e.names.join(' '))),
          )
        : '—',
    ),
  );
}

function ifaceRows(
  g: Graph,
  net: NetworkNamespace,
  ipv6: boolean,
  capture: CapturePanel,
): (Node | string)[][] {
  return [...net.interfaces]
    .sort((a, b) => a.index - b.index)
    .map((i: Interface) => {
      const rel =
        i.veth?.peer ??
        i.macvlan?.parent ??
        i.ipvlan?.parent ??
        i.vlan?.parent ??
        i.vxlan?.underlay ??
        i.link;
      const extra = [
        i.vxlan ? `vni ${i.vxlan.vni}${i.vxlan.remote ? ` remote ${i.vxlan.remote}` : ''}` : '',
        i.vlan ? `vlan ${i.vlan.id}` : '',
        i.macvlan ? `mode ${i.macvlan.mode}` : '',
        i.network ? `network "${i.network.name}"` : '',
        i.tuntap ? `${i.tuntap.mode} ${i.tuntap.holders.map((x) => `${x.comm}(${x.pid})`).join(', ')}` : '',
      ]
        .filter(Boolean)
        .join(' · ');
      return [
        h(
          'a',
          { href: `#/wiring/${net.ino}/${i.index}`, class: 'ifname', 'data-key': ikey(net.ino, i.index) },
          i.name,
        ),
        i.kind,
        h('span', { class: `state st-${i.operstate}` }, i.operstate),
        String(i.mtu),
        i.mac ?? '',
        h(
          'span',
          null,
          i.addresses
            .filter((a) => ipv6 || a.family === 'inet')
            .map((a) =>
              h(
                'div',
                null,
                `${a.address}/${a.prefixlen}`,
                a.scope !== 'global' ? h('span', { class: 'muted' }, ` ${a.scope}`) : '',
              ),
            ),
        ),
        i.master ? ifLink(g, i.master, net.ino) : '',
        rel ? ifLink(g, rel, net.ino) : '',
        extra,
        h(
          'button',
          {
            class: 'link cap-if',
            type: 'button',
            title: `capture packets on ${i.name}`,
            onclick: () => capture.showInterface(i.name),
          },
          'capture',
        ),
      ];
    });
}

export function netnsDetails(g: Graph, ino: number, opts: { ipv6: boolean }): HTMLElement {
  const net = g.nets.get(ino);
  const card = g.cards.get(ino);
  if (!net || !card) {
    return h(
      'div',
      { class: 'details' },
      h('h2', null, `No network namespace ${ino}`),
      h('p', null, 'It may have vanished. ', h('a', { href: '#/wiring' }, 'Back to the wiring view')),
    );
  }
  const capture = capturePanel(netnsCaptureScope(net, card.title));
  return h(
    'div',
    { class: 'details' },
    netnsHead(g.discovery, net, card),
    section('Capture', 'capture', capture.el),
    ...workloadSections(g.discovery, net, card),
    net.isInitial ? '' : checkSection(String(ino), card.title),
    section(
      'Interfaces',
      'interfaces',
      table(
        'interfaces',
        ['name', 'kind', 'state', 'MTU', 'MAC', 'addresses', 'master', 'peer / parent', '', ''],
        ifaceRows(g, net, opts.ipv6, capture),
      ),
    ),
    dnsSection(g.discovery, net),
    portsSection(g.discovery, net, opts.ipv6),
    forwardedSection(g, net),
    ...routingSections(g, net, opts.ipv6),
  );
}

/** The namespace's name, what lives in it, and how it exists (initial, bind mounts, forwarding). */
function netnsHead(d: Discovery, net: NetworkNamespace, card: CardInfo): HTMLElement {
  const ino = net.ino;
  const ns = Object.values(d.namespaces).find((n) => n.type === 'net' && n.ino === ino);
  return h(
    'header',
    { class: 'details-head' },
    h('h2', null, h('span', { class: `dot kind-${card.kind}` }), card.title),
    h('p', { class: 'details-sub' }, card.subtitle),
    h(
      'p',
      { class: 'meta' },
      `net:[${ino}]`,
      net.isInitial ? ' · initial namespace' : '',
      ns?.bindMounts.length ? ` · bind-mounted at ${ns.bindMounts.map((b) => b.path).join(', ')}` : '',
      net.forwarding ? ` · IPv4 forwarding ${net.forwarding.ipv4 ? 'on' : 'off'}` : '',
      ' · ',
      h('a', { href: `#/wiring/${ino}` }, 'show in wiring view'),
    ),
  );
}

/** The containers in the namespace, and the processes that are in no container (when there are any). */
function workloadSections(d: Discovery, net: NetworkNamespace, card: CardInfo): (HTMLElement | '')[] {
  const containers = card.containers.map((c: Container) => {
    const p = processOf(d, c.pid);
    return [
      h('a', { href: `#/container/${encodeURIComponent(c.id)}` }, c.name),
      c.type,
      d.engines[c.engine]?.type ?? c.engine,
      c.state,
      c.pid === undefined ? '' : String(c.pid),
      h('code', { class: 'cmd' }, p?.cmdline.join(' ') || p?.comm || ''),
      capsView(p?.capBnd, true),
      labelsView(c.labels),
    ];
  });
  const tenants = net.tenants
    .filter((t) => !t.container)
    .map((t) => {
      const p = processOf(d, t.pid);
      return [
        String(t.pid),
        t.comm,
        h('code', { class: 'cmd' }, p?.cmdline.join(' ') ?? ''),
        capsView(p?.capBnd, false),
      ];
    });
  return [
    section(
      'Containers',
      'containers',
      table(
        'containers',
        ['name', 'type', 'engine', 'state', 'PID', 'command', 'capabilities (bounding)', 'labels'],
        containers,
        'no containers',
      ),
    ),
    tenants.length
      ? section(
          'Processes',
          'processes',
          table('tenants', ['PID', 'name', 'command', 'capabilities (bounding)'], tenants),
        )
      : '',
  ];
}

function dnsSection(d: Discovery, net: NetworkNamespace): HTMLElement {
  const shared = sharedDns(d, net);
  return section(
    'DNS',
    'dns',
    ...(shared.length
      ? shared.map((e) => h('div', { class: 'dns' }, h('h4', null, e.who.join(', ')), dnsView(e.dns)))
      : [h('p', { class: 'empty' }, 'no tenants, so no DNS configuration')]),
  );
}

function portsSection(d: Discovery, net: NetworkNamespace, ipv6: boolean): HTMLElement {
  return section(
    'Ports',
    'ports',
    table(
      'ports',
      ['protocol', 'address', 'port', 'state', 'owners'],
      servingSockets(net, ipv6).map((s) => [
        s.protocol + (s.family === 'inet6' ? '6' : ''),
        s.localAddress,
        String(s.localPort),
        s.state,
        ownersView(s.owners, d),
      ]),
      'no listening ports',
    ),
  );
}

/** Ports forwarded into or out of the namespace, each linked to the container or namespace it serves. */
function forwardedSection(g: Graph, net: NetworkNamespace): HTMLElement {
  const d = g.discovery;
  const serves = (f: NetworkNamespace['forwardedPorts'][number]): Node | string => {
    const c = f.container ? d.containers[f.container] : undefined;
    if (f.container && c) return h('a', { href: `#/container/${encodeURIComponent(f.container)}` }, c.name);
    if (f.destNetns)
      return h(
        'a',
        { href: `#/netns/${f.destNetns}` },
        g.cards.get(f.destNetns)?.title ?? String(f.destNetns),
      );
    return '';
  };
  return section(
    'Forwarded ports',
    'forwarded',
    table(
      'forwarded',
      ['protocol', 'host', 'to', 'via', 'serves'],
      net.forwardedPorts.map((f) => [...forwardedRow(f), serves(f)]),
      'no forwarded ports',
    ),
  );
}

function routingSections(g: Graph, net: NetworkNamespace, ipv6: boolean): HTMLElement[] {
  const { routes, rules, neighbours } = routingRows(g, net, ipv6);
  return [
    section(
      'Routes',
      'routes',
      table(
        'routes',
        ['table', 'destination', 'via', 'dev', 'type', 'proto', 'scope', 'metric', 'src'],
        routes,
        'no routes',
      ),
    ),
    section(
      'Rules',
      'rules',
      table('rules', ['priority', 'family', 'selector', 'action'], rules, 'no rules'),
    ),
    section(
      'Neighbours',
      'neighbours',
      table('neigh', ['address', 'MAC', 'dev', 'state'], neighbours, 'no neighbours'),
    ),
  ];
}

export function containerDetails(g: Graph, id: string): HTMLElement {
  const d = g.discovery;
  const c = d.containers[id];
  if (!c)
    return h(
      'div',
      { class: 'details' },
      h('h2', null, `No container ${id}`),
      h('a', { href: '#/wiring' }, 'Back to the wiring view'),
    );
  const p = processOf(d, c.pid);
  const engine = d.engines[c.engine];
  const net = c.netns === undefined ? undefined : g.nets.get(c.netns);
  return h(
    'div',
    { class: 'details' },
    h(
      'header',
      { class: 'details-head' },
      h('h2', null, h('span', { class: 'dot kind-container' }), c.name),
      h('p', { class: 'details-sub' }, `${c.type} container · ${c.state}`),
    ),
    h(
      'dl',
      { class: 'kv wide' },
      h('dt', null, 'id'),
      h('dd', null, h('code', null, c.id)),
      h('dt', null, 'image'),
      h('dd', null, c.image ?? '—'),
      h('dt', null, 'engine'),
      h(
        'dd',
        null,
        engine
          ? `${engine.type}${engine.version ? ` ${engine.version}` : ''} (pid ${engine.pid}, ${engine.api})`
          : c.engine,
      ),
      h('dt', null, 'prefix'),
      h('dd', null, c.prefix ?? '—'),
      h('dt', null, 'groups'),
      h('dd', null, c.groups.map((x) => d.groups[x]?.name ?? x).join(', ') || '—'),
      h('dt', null, 'PID'),
      h('dd', null, c.pid === undefined ? '—' : String(c.pid)),
      h('dt', null, 'command'),
      h('dd', null, h('code', { class: 'cmd' }, p?.cmdline.join(' ') ?? '—')),
      h('dt', null, 'privileged'),
      h('dd', null, c.privileged ? h('span', { class: 'cap cap-extra' }, 'yes') : 'no'),
      h('dt', null, 'capabilities'),
      h('dd', null, capsView(p?.capBnd, true)),
      h('dt', null, 'network namespace'),
      h(
        'dd',
        null,
        c.netns
          ? h('a', { href: `#/netns/${c.netns}` }, `${g.cards.get(c.netns)?.title ?? ''} net:[${c.netns}]`)
          : '—',
      ),
      h('dt', null, 'labels'),
      h('dd', null, labelsView(c.labels)),
    ),
    net ? section('Capture', 'capture', capturePanel(containerCaptureScope(c, net)).el) : '',
  );
}

/** Interfaces a capture can open, as /mobyshark lists them: dumpcap refuses DOWN ones. */
const capturable = (net: NetworkNamespace): string[] =>
  [...net.interfaces]
    .sort((a, b) => a.index - b.index)
    .filter((i) => i.operstate !== 'down')
    .map((i) => i.name);

/** A namespace is captured by its inode: the one name that is never ambiguous. */
function netnsCaptureScope(net: NetworkNamespace, title: string): CaptureScope {
  const t = net.tenants[0];
  return {
    key: `netns:${net.ino}`,
    targets: [String(net.ino)],
    label: title,
    packetflix: {
      fallback: {
        name: title,
        type: t ? 'proc' : 'bindmount',
        netns: net.ino,
        'network-interfaces': capturable(net),
        pid: t?.pid ?? 0,
        starttime: t?.starttime ?? 0,
        prefix: '',
      },
      pick: (ts) => ts.find((x) => x.netns === net.ino),
    },
  };
}

/** A container is captured by its name (as `wirescope capture NAME` takes it). */
function containerCaptureScope(c: Container, net: NetworkNamespace): CaptureScope {
  const name = c.name || c.id;
  const t = net.tenants.find((x) => x.pid === c.pid);
  return {
    key: `container:${c.id}`,
    targets: [name],
    label: name,
    packetflix: {
      fallback: {
        name,
        type: c.type.toLowerCase(),
        netns: net.ino,
        'network-interfaces': capturable(net),
        pid: t?.pid ?? 0,
        starttime: t?.starttime ?? 0,
        prefix: c.prefix ?? '',
      },
      pick: (ts) =>
        ts.find((x) => x.netns === net.ino && x.name === name) ?? ts.find((x) => x.netns === net.ino),
    },
  };
}
