/**
 * Reachability probes from the calling thread's network namespace: a TCP
 * connect to a port the neighbour listens on (proves the service), or an ICMP
 * echo (proves the host). Sockets are created by this thread's event loop
 * (net.connect) or by koffi on this thread (ICMP), so in the start namespace
 * when run by the check worker.
 */
import { connect } from 'node:net';
import { closeEchoSocket, drainEcho, type EchoSocket, openEchoSocket, sendEcho } from '../kernel/icmp.js';

export interface ProbeResult {
  ok: boolean;
  via: string;
  error?: string;
}

export function tcpProbe(address: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  const via = `tcp/${port}`;
  return new Promise((resolve) => {
    const s = connect({ host: address, port, timeout: timeoutMs, autoSelectFamily: false });
    const done = (r: ProbeResult) => {
      s.destroy();
      resolve(r);
    };
    s.once('connect', () => done({ ok: true, via }));
    s.once('timeout', () => done({ ok: false, via, error: `${via}: no answer within ${timeoutMs} ms` }));
    s.once('error', (e: NodeJS.ErrnoException) =>
      done({ ok: false, via, error: `${via}: ${e.code ?? e.message}` }),
    );
  });
}

/** How often queued replies are collected; the sockets are non-blocking. */
const POLL_MS = 5;
/** Echo requests per probe, spread over its budget, so one lost packet is not a verdict. */
const ATTEMPTS = 3;

interface Pending {
  finish: (r: ProbeResult) => void;
  seqs: number[];
}

/** ICMP echo for many addresses over one socket per family. */
export class Pinger {
  private readonly sockets = new Map<4 | 6, EchoSocket>();
  private readonly pending = new Map<number, Pending>();
  private readonly id = Math.floor(Math.random() * 0xffff);
  private seq = Math.floor(Math.random() * 0xffff);
  private timer: NodeJS.Timeout | undefined;

  private socketFor(family: 4 | 6): EchoSocket {
    let s = this.sockets.get(family);
    if (!s) {
      s = openEchoSocket(family);
      this.sockets.set(family, s);
    }
    return s;
  }

  ping(address: string, timeoutMs: number): Promise<ProbeResult> {
    const family = address.includes(':') ? 6 : 4;
    return new Promise((resolve) => {
      let s: EchoSocket;
      try {
        s = this.socketFor(family);
      } catch (e) {
        resolve({ ok: false, via: 'icmp', error: `icmp: ${(e as Error).message}` });
        return;
      }
      const timers: NodeJS.Timeout[] = [];
      const entry: Pending = {
        seqs: [],
        finish: (r) => {
          for (const t of timers) clearTimeout(t);
          for (const q of entry.seqs) this.pending.delete(q);
          this.idle();
          resolve(r);
        },
      };
      const send = () => {
        this.seq = (this.seq + 1) & 0xffff;
        const seq = this.seq;
        entry.seqs.push(seq);
        this.pending.set(seq, entry);
        try {
          sendEcho(s, address, this.id, seq);
        } catch (e) {
          entry.finish({ ok: false, via: 'icmp', error: `icmp: ${(e as Error).message}` });
        }
      };
      for (let i = 1; i < ATTEMPTS; i++) timers.push(setTimeout(send, (timeoutMs * i) / ATTEMPTS));
      timers.push(
        setTimeout(
          () => entry.finish({ ok: false, via: 'icmp', error: `icmp: no echo reply within ${timeoutMs} ms` }),
          timeoutMs,
        ),
      );
      this.timer ??= setInterval(() => this.collect(), POLL_MS);
      send();
    });
  }

  private collect(): void {
    for (const s of this.sockets.values()) {
      for (const a of drainEcho(s)) {
        // Ping sockets rewrite the identifier (icmp(7)); raw ones keep ours.
        if (s.raw && a.id !== this.id) continue;
        const p = this.pending.get(a.seq);
        if (!p) continue;
        p.finish(a.error ? { ok: false, via: 'icmp', error: `icmp: ${a.error}` } : { ok: true, via: 'icmp' });
      }
    }
  }

  private idle(): void {
    if (this.pending.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    for (const s of this.sockets.values()) closeEchoSocket(s);
    this.sockets.clear();
  }
}
