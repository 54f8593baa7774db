/**
 * "Capture packets" on a namespace's or container's details (and, through
 * `showInterface`, on each interface row): Edgeshark's packetflix: link, the
 * plain pcapng link, and the `wirescope capture` and `curl` lines to copy, all
 * following one pcap-filter field. The links and lines are built by
 * src/views/capture-links.ts; this module only keeps the panel's state across
 * re-renders and writes the DOM.
 */
import {
  type CaptureSpec,
  cliLine,
  curlLine,
  type PacketflixTarget,
  packetflixUrl,
  pcapngUrl,
} from '../../src/views/capture-links.js';
import { fetchCaptureTargets, hasToken } from './api.js';
import { h } from './dom.js';

export interface CaptureScope {
  /** Identifies the panel's subject across re-renders: `netns:INO`, `container:ID`. */
  key: string;
  /** `wirescope capture` TARGET words. */
  targets: string[];
  /**
   * Edgeshark's plugin captures one /mobyshark target: `fallback` until the
   * service's entry is known, `pick` finds it. None for several namespaces.
   */
  packetflix?: {
    fallback: PacketflixTarget;
    pick: (targets: PacketflixTarget[]) => PacketflixTarget | undefined;
  };
  /** For the pcapng file's name. */
  label: string;
  /** The interfaces it starts with (and returns to): default all of each target. */
  interfaces?: string[];
}

interface PanelState {
  key: string;
  open: boolean;
  filter: string;
  seconds: number;
  chaste: boolean;
  interfaces: string[];
  entry?: PacketflixTarget;
}

const DEFAULT_SECONDS = 10;
/** The panel state of the subject shown last: a re-render (a change event) keeps what was typed. */
let saved: PanelState | undefined;
/** Labels point at inputs by id: each panel's own, as a selection's and a details' panel may coexist. */
let panels = 0;

/** The service's base URL (ends in '/'): the UI may be served under a path prefix. */
const serviceBase = (): string => new URL('.', location.href).href;

const fileName = (label: string): string =>
  `${label.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60) || 'capture'}.pcapng`;

function copyButton(code: HTMLElement): HTMLButtonElement {
  return h(
    'button',
    {
      class: 'link cap-copy',
      type: 'button',
      onclick: () => {
        const text = code.textContent ?? '';
        // The clipboard API needs a secure context (https or localhost); else select the text to copy by hand.
        if (navigator.clipboard) navigator.clipboard.writeText(text).catch(() => selectText(code));
        else selectText(code);
      },
    },
    'copy',
  );
}

function selectText(el: HTMLElement): void {
  const range = document.createRange();
  range.selectNodeContents(el);
  const sel = getSelection();
  sel?.removeAllRanges();
  sel?.addRange(range);
}

export interface CapturePanel {
  el: HTMLElement;
  /** Narrows the capture to one interface (or all, undefined), opens the panel and shows it. */
  showInterface(name: string | undefined): void;
}

/** A panel that starts closed, unfiltered, on the scope's interfaces. */
const freshState = (scope: CaptureScope): PanelState => ({
  key: scope.key,
  open: false,
  filter: '',
  seconds: DEFAULT_SECONDS,
  chaste: false,
  interfaces: scope.interfaces ?? [],
});

export function capturePanel(scope: CaptureScope): CapturePanel {
  const st: PanelState = saved?.key === scope.key ? saved : freshState(scope);
  // A change event re-renders the details while someone may be typing a filter: the new panel takes
  // the focus and caret over from the old one, which is still in the document while this one is built.
  const typing = saved === st ? focusedField() : undefined;
  saved = st;
  const initial = (scope.interfaces ?? []).join('/');
  const id = `capture${++panels}`;

  const filter = h('input', {
    type: 'text',
    id: `${id}-filter`,
    class: 'cap-filter',
    placeholder: 'pcap-filter, e.g. tcp port 80 or icmp',
    spellcheck: 'false',
    autocomplete: 'off',
    value: st.filter,
  });
  const seconds = h('input', {
    type: 'number',
    id: `${id}-seconds`,
    class: 'cap-seconds',
    min: 1,
    max: 86400,
    value: st.seconds,
  });
  const chaste = h('input', { type: 'checkbox', id: `${id}-chaste`, checked: st.chaste });
  const scopeText = h('span', { class: 'cap-scope' });
  const allButton = h(
    'button',
    { class: 'link', type: 'button', onclick: () => panel.showInterface(undefined) },
    initial ? 'back to the selection' : 'all interfaces instead',
  );
  const packetflix = h('a', { class: 'cap-packetflix', href: '#' }, 'open in Wireshark');
  const pcapng = h('a', { class: 'cap-pcapng', href: '#' }, 'download pcapng');
  const cli = h('code', { class: 'cap-cli' });
  const curl = h('code', { class: 'cap-curl' });
  const tokenNote = h(
    'p',
    { class: 'cap-token', hidden: !hasToken() },
    'This service requires a bearer token, which links cannot carry: Wireshark and a browser download are refused (401). ',
    'The curl line sends it from $WIRESCOPE_TOKEN (export WIRESCOPE_TOKEN=… first).',
  );

  const update = (): void => {
    st.filter = filter.value;
    const n = Number(seconds.value);
    st.seconds = Number.isFinite(n) && n > 0 ? Math.min(n, 86_400) : DEFAULT_SECONDS;
    st.chaste = chaste.checked;
    const spec: CaptureSpec = {
      targets: scope.targets,
      interfaces: st.interfaces,
      filter: st.filter,
      chaste: st.chaste,
    };
    const base = serviceBase();
    if (scope.packetflix) packetflix.href = packetflixUrl(base, st.entry ?? scope.packetflix.fallback, spec);
    pcapng.href = pcapngUrl(base, spec, st.seconds);
    pcapng.download = fileName(scope.label);
    pcapng.textContent = `download ${st.seconds} s of pcapng`;
    cli.textContent = cliLine(spec);
    curl.textContent = curlLine(base, spec, hasToken());
    scopeText.textContent = st.interfaces.length ? st.interfaces.join(', ') : 'all interfaces';
    allButton.hidden = st.interfaces.join('/') === initial;
  };
  filter.addEventListener('input', update);
  seconds.addEventListener('input', update);
  chaste.addEventListener('change', update);

  const lookup = (): void => {
    const pf = scope.packetflix;
    if (st.entry || !pf) return;
    fetchCaptureTargets()
      .then((ts) => {
        const e = pf.pick(ts);
        if (e && saved === st) {
          st.entry = e;
          update();
        }
      })
      // The fallback target still names the namespace by inode: the link works, only less precisely.
      .catch(() => {});
  };

  const details = panelMarkup(id, scope, st.open, {
    filter,
    seconds,
    chaste,
    scopeText,
    allButton,
    packetflix,
    pcapng,
    cli,
    curl,
    tokenNote,
  });
  details.addEventListener('toggle', () => {
    st.open = details.open;
    if (details.open) lookup();
  });
  if (st.open) lookup();

  const panel: CapturePanel = {
    el: details,
    showInterface(name) {
      st.interfaces = name === undefined ? (scope.interfaces ?? []) : [name];
      update();
      details.open = true;
      st.open = true;
      lookup();
      details.scrollIntoView({ block: 'nearest' });
    },
  };
  update();
  if (typing) refocus(typing, filter, seconds);
  return panel;
}

/** Gives the new panel's field the focus and caret the old panel's had (once the new one is in the document). */
function refocus(typing: TypedField, filter: HTMLInputElement, seconds: HTMLInputElement): void {
  requestAnimationFrame(() => {
    const field = typing.cls === 'cap-filter' ? filter : seconds;
    if (!field.isConnected) return;
    field.focus();
    if (typing.cls === 'cap-filter') field.setSelectionRange(typing.start, typing.end);
  });
}

/** The panel's controls, built by capturePanel (which keeps them up to date) and laid out by panelMarkup. */
interface PanelFields {
  filter: HTMLInputElement;
  seconds: HTMLInputElement;
  chaste: HTMLInputElement;
  scopeText: HTMLElement;
  allButton: HTMLButtonElement;
  packetflix: HTMLAnchorElement;
  pcapng: HTMLAnchorElement;
  cli: HTMLElement;
  curl: HTMLElement;
  tokenNote: HTMLElement;
}

/** The panel: the form, the interfaces it captures on, and the links and lines (Wireshark, pcapng, CLI, curl). */
function panelMarkup(id: string, scope: CaptureScope, open: boolean, f: PanelFields): HTMLDetailsElement {
  return h(
    'details',
    { class: 'capture', open },
    h('summary', null, 'capture packets'),
    h(
      'div',
      { class: 'cap-body' },
      h(
        'div',
        { class: 'cap-form' },
        h('label', { for: `${id}-filter` }, 'filter'),
        f.filter,
        h('label', { for: `${id}-seconds` }, 'seconds'),
        f.seconds,
        h('label', { class: 'cap-check' }, f.chaste, ' chaste (no promiscuous mode)'),
      ),
      h('p', { class: 'cap-on' }, 'on ', f.scopeText, ' ', f.allButton),
      h(
        'dl',
        { class: 'kv cap-links' },
        h('dt', null, 'Wireshark'),
        h(
          'dd',
          null,
          scope.packetflix
            ? [f.packetflix, h('span', { class: 'muted' }, ' with Edgeshark’s plugin (cshargextcap)')]
            : h(
                'span',
                { class: 'muted cap-nopf' },
                'Edgeshark’s plugin captures one namespace at a time: use the curl line',
              ),
        ),
        h('dt', null, 'pcapng'),
        h('dd', null, f.pcapng),
        h('dt', null, 'on this host'),
        h('dd', null, f.cli, ' ', copyButton(f.cli)),
        h('dt', null, 'curl'),
        h('dd', null, f.curl, ' ', copyButton(f.curl)),
      ),
      f.tokenNote,
    ),
  );
}

/** The capture panel's text field that has the focus, with its caret. */
type TypedField = { cls: 'cap-filter' | 'cap-seconds'; start: number; end: number };

function focusedField(): TypedField | undefined {
  const el = document.activeElement;
  if (!(el instanceof HTMLInputElement) || !el.closest('details.capture')) return undefined;
  const cls = el.classList.contains('cap-filter')
    ? 'cap-filter'
    : el.classList.contains('cap-seconds')
      ? 'cap-seconds'
      : undefined;
  if (!cls) return undefined;
  const start = cls === 'cap-filter' ? (el.selectionStart ?? el.value.length) : 0;
  return { cls, start, end: cls === 'cap-filter' ? (el.selectionEnd ?? start) : 0 };
}
