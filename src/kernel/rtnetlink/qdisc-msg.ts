/**
 * RTM_NEWQDISC payload for a root netem qdisc (struct tcmsg + TCA_KIND +
 * TCA_OPTIONS carrying struct tc_netem_qopt, include/uapi/linux/pkt_sched.h).
 */
import { readFileSync } from 'node:fs';
import { AttrBuilder } from '../netlink.js';
import { AF_UNSPEC, TC_H_ROOT, TCA_KIND, TCA_OPTIONS, TCMSG_LEN } from './constants.js';

export interface NetemSpec {
  delayUs: number;
  jitterUs: number;
  lossPct: number;
}

/**
 * struct tc_netem_qopt { latency, limit, loss, gap, duplicate, jitter } (u32
 * each): latency and jitter in psched ticks, loss as a fraction of 2^32, a
 * limit of 1000 packets (tc's default).
 */
export function netemMsg(index: number, n: NetemSpec): Buffer {
  const h = Buffer.alloc(TCMSG_LEN);
  h.writeUInt8(AF_UNSPEC, 0);
  h.writeInt32LE(index, 4);
  h.writeUInt32LE(0, 8);
  h.writeUInt32LE(TC_H_ROOT, 12);
  const tick = psched();
  const q = Buffer.alloc(24);
  q.writeUInt32LE(Math.round(n.delayUs * tick), 0);
  q.writeUInt32LE(1000, 4);
  q.writeUInt32LE(Math.round((n.lossPct / 100) * 0xffffffff) >>> 0, 8);
  q.writeUInt32LE(Math.round(n.jitterUs * tick), 20);
  const a = new AttrBuilder().str(TCA_KIND, 'netem').raw(TCA_OPTIONS, q);
  return Buffer.concat([h, a.build()]);
}

let tickPerUs: number | undefined;
/** psched ticks per microsecond, as iproute2's tc_core_init computes it from /proc/net/psched. */
function psched(): number {
  if (tickPerUs === undefined) {
    try {
      const [t2usRaw = 1000, us2t = 64, res = 1e6] = readFileSync('/proc/net/psched', 'utf8')
        .trim()
        .split(/\s+/)
        .map((h) => Number.parseInt(h, 16));
      // A 1 GHz clock_res means high-resolution timers: ticks are nanoseconds.
      const t2us = res === 1e9 ? us2t : t2usRaw;
      tickPerUs = (t2us / us2t) * (res / 1e6);
    } catch {
      tickPerUs = 1;
    }
  }
  return tickPerUs;
}
