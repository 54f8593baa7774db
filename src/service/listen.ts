/** Parsing of `--listen` addresses; pure. */

export interface ListenAddress {
  host: string;
  port: number;
}

export const DEFAULT_LISTEN: ListenAddress = { host: '127.0.0.1', port: 5000 };

/** "host:port", "[v6]:port", ":port" (all interfaces) or "port". */
export function parseListen(text: string): ListenAddress {
  const t = text.trim();
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (v6) {
    host = v6[1]!;
    portText = v6[2] ?? '5000';
  } else if (/^\d+$/.test(t)) {
    host = DEFAULT_LISTEN.host;
    portText = t;
  } else {
    const i = t.lastIndexOf(':');
    if (i < 0) {
      host = t;
      portText = '5000';
    } else {
      host = t.slice(0, i) || '0.0.0.0';
      portText = t.slice(i + 1);
    }
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535)
    throw new Error(`--listen: "${text}" has no valid port (0-65535)`);
  if (!host || /\s/.test(host)) throw new Error(`--listen: "${text}" has no valid host`);
  return { host, port };
}

/** True when only this machine can connect (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return (
    host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::ffff:127.0.0.1'
  );
}
