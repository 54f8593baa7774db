/** JSON over HTTP on a unix socket, with a hard timeout (for podman's libpod API). */
import { request } from 'node:http';

export function getJson(
  socketPath: string,
  path: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, path, method: 'GET', timeout: timeoutMs, headers: { host: 'd' }, signal },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 0) >= 400) {
            reject(
              Object.assign(new Error(`GET ${path}: HTTP ${res.statusCode}`), { statusCode: res.statusCode }),
            );
            return;
          }
          try {
            resolve(JSON.parse(body));
          } catch {
            reject(new Error(`GET ${path}: malformed JSON`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
