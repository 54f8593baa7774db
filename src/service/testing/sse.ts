/**
 * A server-sent event reader for the service tests: opens /api/events with
 * fetch and keeps everything received, for the tests to poll with
 * `eventually`. close() aborts the request and waits for the reader to end,
 * so no test leaves a connection open to the service it closes next.
 */
import { eventually } from '../../testing/eventually.js';

export interface EventStream {
  status: number;
  contentType: string;
  /** All bytes received so far, as text. */
  text(): string;
  /** The parsed `data:` of every complete `event: change` block received so far, oldest first. */
  changes<T>(): T[];
  /** Resolves once the service greeted the stream (`event: hello`): later changes will reach it. */
  hello(): Promise<void>;
  close(): Promise<void>;
}

/** `query`: e.g. "?access_token=T". */
export async function openEvents(base: string, query = ''): Promise<EventStream> {
  const chunks: string[] = [];
  const ac = new AbortController();
  const res = await fetch(`${base}/api/events${query}`, { signal: ac.signal });
  const reader = res.body!.getReader();
  const pump = (async () => {
    const dec = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        chunks.push(dec.decode(value, { stream: true }));
      }
    } catch {
      // aborted
    }
  })();
  const text = (): string => chunks.join('');
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    text,
    changes<T>(): T[] {
      // An event ends with a blank line (WHATWG HTML, server-sent events); the last piece may be partial.
      const blocks = text().split('\n\n').slice(0, -1);
      const out: T[] = [];
      for (const block of blocks) {
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (block.includes('event: change') && data) out.push(JSON.parse(data.slice(6)) as T);
      }
      return out;
    },
    async hello(): Promise<void> {
      await eventually('hello', async () => (text().includes('event: hello') ? true : undefined), {
        timeoutMs: 5000,
        intervalMs: 250,
      });
    },
    async close(): Promise<void> {
      ac.abort();
      await pump;
    },
  };
}
