import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * headers_timeout (slowloris): a client that does not finish a request's head in time gets 408 and
 * is disconnected, whatever it sends meanwhile (a partial head, or only blank lines); one that
 * finishes in time is answered as usual. Here 1 s, so Node checks connections every 250 ms.
 */

let h: Harness;
let port: number;

beforeAll(async () => {
  h = await startHarness({ listen: true, overrides: { headers_timeout: '1s' } });
  port = Number(new URL(h.baseUrl).port);
});

afterAll(async () => {
  await h?.close();
});

/** Sends the parts with pauses between them; resolves with what came back and when the server closed. */
function trickle(parts: Array<string | number>): Promise<{ status: number; closedAfterMs: number; reply: string }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.setTimeout(10_000, () => socket.destroy());
    socket.once('close', () => {
      const reply = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);
      resolve({ status, closedAfterMs: performance.now() - started, reply });
    });
    void (async () => {
      for (const part of parts) {
        if (typeof part === 'number') await new Promise((wait) => setTimeout(wait, part));
        else if (!socket.destroyed) socket.write(part, 'latin1');
      }
    })();
  });
}

describe('headers_timeout', () => {
  it('answers 408 and disconnects a client whose head is still unfinished', async () => {
    const result = await trickle(['GET /healthz HTTP/1.1\r\n', 300, 'Host: 127.0.0.1\r\n', 300, 'X-Slow: 1\r\n']);
    expect(result.status).toBe(408);
    expect(result.reply).toContain('request_timeout');
    expect(result.closedAfterMs).toBeGreaterThanOrEqual(900);
    expect(result.closedAfterMs).toBeLessThan(4000);
  });

  it('disconnects a client that sends only blank lines', async () => {
    const result = await trickle(['\r\n', 400, '\r\n', 400, '\r\n', 400, '\r\n']);
    expect(result.closedAfterMs).toBeLessThan(4000);
    expect([0, 408]).toContain(result.status);
  });

  it('answers a head that is slow but in time', async () => {
    const result = await trickle(['GET /healthz HTTP/1.1\r\n', 300, 'Host: 127.0.0.1\r\nConnection: close\r\n', 200, '\r\n']);
    expect(result.status).toBe(200);
  });

  it('is validated at start', async () => {
    const { loadConfig } = await import('../../src/config.js');
    expect(() => loadConfig({ env: {}, cwd: '/tmp', overrides: { headers_timeout: '0s' } })).toThrow(
      /headers_timeout: must be at least 1s/,
    );
    expect(loadConfig({ env: {}, cwd: '/tmp' }).headersTimeoutMs).toBe(15_000);
  });
});
