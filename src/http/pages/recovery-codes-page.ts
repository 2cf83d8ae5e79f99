import { html } from './html.js';

/**
 * The codes are shown once, right after they are made (enrollment or regeneration): the page is the
 * answer to that POST, never a page that can be fetched again. The buttons come alive with app.js.
 */
export function recoveryCodesPage(view: { username: string; codes: string[]; endedSessions: number; heading: string; lead: string }) {
  const ended =
    view.endedSessions > 0
      ? html`<p class="notice" role="status">
          ${view.endedSessions === 1 ? '1 other session was' : `${view.endedSessions} other sessions were`} signed out.
        </p>`
      : null;
  return html`<section class="card">
    <h1>${view.heading}</h1>
    ${ended}
    <p class="lead">
      ${view.lead} Each code signs you in once if you lose your authenticator. <strong>This is the only time they are shown.</strong>
    </p>
    <ol id="recovery-codes" class="codes" data-download-name="${`twofold-recovery-codes-${view.username}.txt`}">
      ${view.codes.map((code) => html`<li><code>${code}</code></li>`)}
    </ol>
    <div class="actions">
      <button type="button" class="button" data-copy-codes hidden>Copy</button>
      <button type="button" class="button" data-download-codes hidden>Download</button>
      <span class="action-status" role="status" aria-live="polite"></span>
    </div>
    <p class="hint">Keep them apart from your phone: in a password manager, or printed and put away.</p>
    <p><a class="button button-primary" href="/account">I saved them — continue</a></p>
  </section>`;
}
