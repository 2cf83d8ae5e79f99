import type { WebAuthnCredential } from '../../store/store.js';
import { html, type SafeHtml } from './html.js';
import { csrfField } from './layout.js';
import { formatTime } from './page-support.js';

/** The page script for passkeys: a module (it imports @simplewebauthn/browser), loaded only where needed. */
export const passkeyScript = html`<script type="module" src="/assets/passkeys.js"></script>`;

/**
 * "Use a passkey" under a second-factor or step-up form. The button appears only when the script
 * runs and the browser can do WebAuthn; without them the code form still works.
 */
export function passkeyAssertOption(urls: { optionsUrl: string; verifyUrl: string; doneUrl: string }): SafeHtml {
  return html`<div
      class="passkey-option"
      data-passkey-assert
      data-options-url="${urls.optionsUrl}"
      data-verify-url="${urls.verifyUrl}"
      data-done-url="${urls.doneUrl}"
    >
      <p class="form-error" role="alert" data-passkey-status hidden></p>
      <button type="button" class="button button-primary button-block" data-passkey-start hidden>Use a passkey</button>
    </div>
    ${passkeyScript}`;
}

function credentialRow(c: WebAuthnCredential, view: { csrfToken: string | undefined; fresh: boolean }): SafeHtml {
  const remove = view.fresh
    ? html`<form method="post" action="/account/passkeys/remove" class="inline-form">
        ${csrfField(view.csrfToken)}
        <input type="hidden" name="id" value="${c.id}" />
        <button type="submit" class="button button-small button-danger" aria-label="${`Remove the passkey ${c.name}`}">Remove</button>
      </form>`
    : html`<a class="button button-small" href="/step-up?return_to=%2Faccount" aria-label="${`Confirm it is you to remove ${c.name}`}"
        >Confirm to remove</a
      >`;
  return html`<tr>
    <td>
      <form method="post" action="/account/passkeys/rename" class="inline-form">
        ${csrfField(view.csrfToken)}
        <input type="hidden" name="id" value="${c.id}" />
        <label class="visually-hidden" for="passkey-name-${c.id}">Name</label>
        <input id="passkey-name-${c.id}" class="input input-small" name="name" value="${c.name}" maxlength="64" required />
        <button type="submit" class="button button-small">Rename</button>
      </form>
      <span class="muted"
        >${c.backupEligible ? 'Synced passkey' : 'Device-bound key'}${c.transports.length ? ` · ${c.transports.join(', ')}` : ''}</span
      >
    </td>
    <td>${formatTime(c.createdAt)}</td>
    <td>${c.lastUsedAt === null ? 'Never' : formatTime(c.lastUsedAt)}</td>
    <td class="cell-action">${remove}</td>
  </tr>`;
}

/** The account page's list of passkeys and security keys, with rename, remove and "Add a passkey". */
export function passkeysSection(view: { credentials: WebAuthnCredential[]; csrfToken: string | undefined; fresh: boolean }): SafeHtml {
  return html`<section class="card" aria-labelledby="passkeys-title">
    <h2 id="passkeys-title">Passkeys and security keys</h2>
    <p class="hint">A passkey signs in only on twofold's own address, so a look-alike site cannot phish it.</p>
    ${
      view.credentials.length === 0
        ? html`<p>No passkey is set up.</p>`
        : html`<div class="table-wrap">
              <table class="sessions passkeys">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Added</th>
                    <th scope="col">Last used</th>
                    <th scope="col"><span class="visually-hidden">Action</span></th>
                  </tr>
                </thead>
                <tbody>
                  ${view.credentials.map((c) => credentialRow(c, view))}
                </tbody>
              </table>
            </div>
            ${view.fresh ? null : html`<p class="hint">Removing a passkey needs you to confirm it is you first.</p>`}`
    }
    <form
      class="form-narrow"
      data-passkey-register
      data-options-url="/api/v1/factors/webauthn/registration/options"
      data-verify-url="/api/v1/factors/webauthn/registration/verify"
      data-done-url="/account?done=passkey_added"
    >
      <p class="form-error" role="alert" data-passkey-status hidden></p>
      <div class="field">
        <label for="field-passkey-name">Name for the new passkey</label>
        <input id="field-passkey-name" class="input" name="name" maxlength="64" required placeholder="e.g. YubiKey or Laptop" />
      </div>
      <button type="submit" class="button">Add a passkey</button>
    </form>
    ${passkeyScript}
  </section>`;
}
