import { createServer, type Server } from 'node:http';

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * A tiny app to protect, started by `twofold serve --demo`: it shows who the gate says you are.
 * It trusts the Remote-* headers because only the proxy in front of it can reach it (loopback).
 */
export function startDemoApp(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const header = (name: string) => String(req.headers[name] ?? '');
    const rows = ['remote-user', 'remote-name', 'remote-groups', 'remote-session', 'remote-aal', 'remote-auth-time']
      .map((name) => `<tr><th>${name}</th><td>${escape(header(name))}</td></tr>`)
      .join('');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Demo app behind twofold</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>Hello, ${escape(header('remote-name') || header('remote-user') || 'stranger')}</h1>
<p>This page is a separate app. twofold's proxy let you in after your password and second factor, and told the app who you are:</p>
<table>${rows}</table>
<p>Path you asked for: <code>${escape(req.url ?? '/')}</code></p>
</body></html>`);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({ server, url: `http://127.0.0.1:${port}` });
    });
  });
}
