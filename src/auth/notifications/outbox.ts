import type { Transporter } from 'nodemailer';

/** One security email to one user. */
export interface Mail {
  to: string;
  subject: string;
  text: string;
  /** For the audit trail: which user and why. */
  userId: string;
  kind: string;
}

export type DeliveryReport = (mail: Mail, outcome: { ok: true } | { ok: false; error: string }) => Promise<void>;

/**
 * Security emails leave through this queue: enqueue() returns at once, a single worker sends over
 * SMTP (nodemailer) with a few retries, so a slow or dead mail server never holds up a sign-in.
 * The queue is in memory and bounded: mails still queued when the process stops are lost (stated
 * in docs/risk.md), the sign-in itself is already in the audit trail.
 */
export class Outbox {
  private readonly queue: Mail[] = [];
  private running: Promise<void> | null = null;
  /** nodemailer is loaded with the first outbox: a server without SMTP configured never pays for it. */
  private readonly transport: Promise<Transporter>;

  constructor(
    private readonly smtp: { url: string; from: string },
    private readonly report: DeliveryReport,
    private readonly options: { maxQueued?: number; attempts?: number; retryDelayMs?: number } = {},
  ) {
    // Timeouts well under a minute: a stuck server delays mail, never the process's shutdown for long.
    this.transport = import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport(smtp.url, {
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 20_000,
      } as never),
    );
  }

  enqueue(mail: Mail): void {
    if (this.queue.length >= (this.options.maxQueued ?? 1000)) {
      void this.report(mail, { ok: false, error: 'outbox full' });
      return;
    }
    this.queue.push(mail);
    this.running ??= this.work().finally(() => {
      this.running = null;
    });
  }

  /** Resolves when everything queued so far was sent or given up (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    await this.drain();
    (await this.transport).close();
  }

  private async work(): Promise<void> {
    for (let mail = this.queue.shift(); mail; mail = this.queue.shift()) {
      const attempts = this.options.attempts ?? 3;
      let error = '';
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          await (await this.transport).sendMail({ from: this.smtp.from, to: mail.to, subject: mail.subject, text: mail.text });
          error = '';
          break;
        } catch (err) {
          // The SMTP URL may carry a password: report the error's code and message only.
          error = `${(err as { code?: string }).code ?? 'error'}: ${(err as Error).message}`.slice(0, 200);
          if (attempt < attempts) await new Promise((r) => setTimeout(r, (this.options.retryDelayMs ?? 2000) * attempt));
        }
      }
      await this.report(mail, error ? { ok: false, error } : { ok: true }).catch(() => undefined);
    }
  }
}
