// twofold pages: passkeys (WebAuthn). Loaded as a module by the pages that offer a passkey; the
// ceremony itself is @simplewebauthn/browser, served by twofold (no CDN; the CSP allows no inline script).
import { browserSupportsWebAuthn, startAuthentication, startRegistration } from '/assets/vendor/simplewebauthn/index.js';

/** POST as JSON; the page's own Origin header satisfies the CSRF guard. Refusals become Errors with the server's words. */
async function post(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error((data && data.error && data.error.message) || 'Something went wrong (' + response.status + ').');
    error.code = data && data.error && data.error.code;
    throw error;
  }
  return data;
}

/** The browser's own refusals, in plain words. */
function explain(error) {
  if (error && error.name === 'NotAllowedError') return 'The passkey prompt was cancelled or timed out. Try again.';
  if (error && error.name === 'InvalidStateError') return 'This passkey or security key is already registered.';
  if (error && error.name === 'SecurityError') return 'This browser refused passkeys for this address. ' + (error.message || '');
  return (error && error.message) || 'The passkey did not work.';
}

function say(box, message) {
  if (!box) return;
  box.textContent = message;
  box.hidden = !message;
}

/** Sign-in second factor and step-up: options, the browser's prompt, then the answer. */
for (const panel of document.querySelectorAll('[data-passkey-assert]')) {
  const button = panel.querySelector('[data-passkey-start]');
  const status = panel.querySelector('[data-passkey-status]');
  if (!browserSupportsWebAuthn()) {
    say(status, 'This browser does not support passkeys.');
    continue;
  }
  button.hidden = false;
  button.addEventListener('click', async () => {
    button.disabled = true;
    say(status, '');
    try {
      const optionsJSON = await post(panel.dataset.optionsUrl);
      const response = await startAuthentication({ optionsJSON });
      await post(panel.dataset.verifyUrl, { method: 'webauthn', response });
      window.location.assign(panel.dataset.doneUrl || '/');
    } catch (error) {
      if (error.code === 'pending_login_invalid' || error.code === 'too_many_attempts' || error.code === 'factor_locked') {
        window.location.assign('/login?notice=' + error.code);
        return;
      }
      say(status, explain(error));
      button.disabled = false;
    }
  });
}

/** The account page: add a passkey under a name the user chooses. */
for (const form of document.querySelectorAll('[data-passkey-register]')) {
  const status = form.querySelector('[data-passkey-status]');
  const button = form.querySelector('button[type="submit"]');
  if (!browserSupportsWebAuthn()) {
    say(status, 'This browser does not support passkeys.');
    if (button) button.disabled = true;
    continue;
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = form.querySelector('[name="name"]').value.trim();
    if (button) button.disabled = true;
    say(status, '');
    try {
      const optionsJSON = await post(form.dataset.optionsUrl);
      const response = await startRegistration({ optionsJSON });
      const added = await post(form.dataset.verifyUrl, { name, response });
      // Enrolling (the /enroll page): the recovery codes come back once and are shown in place of the form.
      const codesPanel = form.parentElement && form.parentElement.querySelector('[data-passkey-codes]');
      if (added && Array.isArray(added.recovery_codes) && codesPanel) {
        const list = codesPanel.querySelector('ol');
        for (const code of added.recovery_codes) {
          const item = document.createElement('li');
          const text = document.createElement('code');
          text.textContent = code;
          item.append(text);
          list.append(item);
        }
        form.hidden = true;
        codesPanel.hidden = false;
        // The authenticator-app set-up beside it belonged to the session that just ended.
        for (const other of document.querySelectorAll('[data-enroll-totp]')) other.hidden = true;
        return;
      }
      window.location.assign(form.dataset.doneUrl || '/account');
    } catch (error) {
      say(status, explain(error));
      if (button) button.disabled = false;
    }
  });
}
