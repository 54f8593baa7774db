/**
 * A websocket server (ws, noServer mode) that loads the library with the
 * first upgrade it handles: the service's two websockets (/capture,
 * /mobydig) are used by few clients, and the service listens sooner without
 * the library (ARCHITECTURE.md "Start-up cost").
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ServerOptions, WebSocket, WebSocketServer } from 'ws';

export class LazyWebSocketServer {
  private server: WebSocketServer | undefined;
  private loading: Promise<WebSocketServer> | undefined;
  private closed = false;

  constructor(private readonly options: ServerOptions) {}

  /** As WebSocketServer.handleUpgrade; a socket that went away while ws loaded is dropped by ws itself. */
  handleUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cb: (ws: WebSocket, req: IncomingMessage) => void,
  ): void {
    this.loading ??= import('ws').then(({ WebSocketServer }) => {
      this.server = new WebSocketServer({ ...this.options, noServer: true });
      return this.server;
    });
    this.loading.then(
      (wss) => {
        if (this.closed) socket.destroy();
        else wss.handleUpgrade(req, socket, head, cb);
      },
      () => socket.destroy(),
    );
  }

  /** Cuts every open websocket and takes no more. */
  close(): void {
    this.closed = true;
    for (const ws of this.server?.clients ?? []) ws.terminate();
    this.server?.close();
  }
}
