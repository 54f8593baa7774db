/**
 * Text bound for a terminal, made inert.
 *
 * Interface names and aliases, command lines, hostnames, container names, paths and
 * engine answers are chosen by whoever runs a process or owns a namespace. Printed raw,
 * an ESC or CSI/OSC sequence in them rewrites the operator's terminal (clear the
 * screen, move the cursor over earlier lines, set the window title, on some terminals
 * write files or answer back into the input, ECMA-48 § 5); a newline forges a line of
 * our own output; a bidi override (U+202E) shows text in another order than it is
 * (CVE-2021-42574, "Trojan Source"). Every such code point is shown as an escape:
 *
 * - C0 (U+0000–U+001F), DEL (U+007F) and C1 (U+0080–U+009F: 8-bit CSI, OSC, …) as `\xHH`;
 * - the bidi embeddings, overrides, isolates and marks (U+061C, U+200E, U+200F,
 *   U+202A–U+202E, U+2066–U+2069) and the line and paragraph separators (U+2028,
 *   U+2029) as `\uHHHH`;
 * - lone surrogates (from JSON `\ud800` escapes of an engine answer) as `\uHHHH`: the
 *   stream would turn them into U+FFFD. Invalid UTF-8 from the kernel or procfs never
 *   gets this far as such: it was decoded into U+FFFD where it was read.
 *
 * JSON output needs none of it (JSON.stringify escapes C0 itself, and the bytes are
 * for programs); the web UI puts text into the DOM as text. This is for the text views.
 */

/** What is escaped; `u` mode makes a surrogate pair one code point, so only lone halves match. */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ud800-\udfff]/gu;

const hex = (c: string, width: number): string => (c.codePointAt(0) ?? 0).toString(16).padStart(width, '0');
const escapeOne = (c: string): string =>
  (c.codePointAt(0) ?? 0) < 0x100 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`;

/** `s` with every control, bidi and lone-surrogate code point escaped; newlines and tabs too. */
export function escapeTerminal(s: string): string {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(s) ? s.replace(UNSAFE, escapeOne) : s;
}

/**
 * A copy of a plain data tree (plain objects, arrays, strings, numbers, booleans) with every
 * string escaped, keys included: a view renders from it with its own layout and colours,
 * and no value can break out. Keys are escaped like the values that refer to them, so
 * lookups (`containers[tenant.container]`) still meet.
 */
// Other objects (Map, Buffer) are returned as they are: views render from plain JSON-shaped models.
export function escapeTerminalDeep<T>(value: T): T {
  return deep(value) as T;
}

function deep(v: unknown): unknown {
  if (typeof v === 'string') return escapeTerminal(v);
  if (Array.isArray(v)) return v.map(deep);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[escapeTerminal(k)] = deep(x);
    return out;
  }
  return v;
}
