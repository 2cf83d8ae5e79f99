import { html, type HtmlValue, type SafeHtml } from './html.js';

export interface PageShell {
  title: string;
  body: SafeHtml;
  /** The signed-in user, shown in the header next to a sign-out button. */
  account?: { username: string; csrfToken: string | undefined };
  /** The account page needs room for its sessions table. */
  wide?: boolean;
  /** Extra stylesheets and scripts of ours (file names under /assets/), e.g. the admin console's charts. */
  styles?: string[];
  scripts?: string[];
}

/**
 * Every page: our own stylesheet and script only (the CSP forbids inline ones). The referrer policy
 * comes from the server's `Referrer-Policy: same-origin` header (see security-headers.ts).
 */
export function layout(page: PageShell): SafeHtml {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${page.title} · twofold</title>
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/assets/app.css" />
        <script src="/assets/app.js" defer></script>
        ${(page.styles ?? []).map((name) => html`<link rel="stylesheet" href="/assets/${name}" />`)}
        ${(page.scripts ?? []).map((name) => html`<script src="/assets/${name}" defer></script>`)}
      </head>
      <body>
        <header class="site-header">
          <a class="brand" href="/">twofold</a>
          ${page.account ? signedInAs(page.account.username, page.account.csrfToken) : null}
        </header>
        <main class="${page.wide ? 'page page-wide' : 'page'}">${page.body}</main>
      </body>
    </html> `;
}

function signedInAs(username: string, csrfToken: string | undefined): SafeHtml {
  return html`<form class="signed-in" method="post" action="/logout">
    <span>Signed in as <strong>${username}</strong></span>
    ${csrfField(csrfToken)}
    <button type="submit" class="button button-quiet">Sign out</button>
  </form>`;
}

/** The double-submit token the CSRF guard compares with the twofold_csrf cookie. */
export const csrfField = (token: string | undefined): SafeHtml => html`<input type="hidden" name="_csrf" value="${token ?? ''}" />`;

export const hiddenField = (name: string, value: string | undefined): SafeHtml =>
  value === undefined ? html`` : html`<input type="hidden" name="${name}" value="${value}" />`;

/** A refusal shown at the top of the form it concerns; screen readers announce it. */
export const formError = (id: string, message: string | undefined): SafeHtml =>
  message ? html`<p class="form-error" role="alert" id="${id}">${message}</p>` : html``;

export const notice = (text: string | undefined): SafeHtml => (text ? html`<p class="notice" role="status">${text}</p>` : html``);

export interface TextField {
  name: string;
  label: string;
  type?: 'text' | 'password';
  autocomplete: string;
  value?: string;
  autofocus?: boolean;
  hint?: string;
  inputmode?: 'numeric' | 'text';
  minlength?: number;
  maxlength?: number;
  pattern?: string;
  /** Id of the error message this field is the cause of. */
  errorId?: string;
  extraClass?: string;
}

/** A labelled input: the label's `for` and the hint's id make it usable with keyboard and screen readers. */
export function textField(field: TextField): SafeHtml {
  const id = `field-${field.name}`;
  const hintId = field.hint ? `${id}-hint` : undefined;
  const describedBy = [hintId, field.errorId].filter(Boolean).join(' ');
  const attrs: HtmlValue[] = [
    field.value !== undefined ? html` value="${field.value}"` : null,
    field.autofocus ? html` autofocus` : null,
    field.inputmode ? html` inputmode="${field.inputmode}"` : null,
    field.minlength !== undefined ? html` minlength="${field.minlength}"` : null,
    field.maxlength !== undefined ? html` maxlength="${field.maxlength}"` : null,
    field.pattern ? html` pattern="${field.pattern}"` : null,
    describedBy ? html` aria-describedby="${describedBy}"` : null,
    field.errorId ? html` aria-invalid="true"` : null,
  ];
  return html`<div class="field">
    <label for="${id}">${field.label}</label>
    <input
      id="${id}"
      class="${['input', field.extraClass].filter(Boolean).join(' ')}"
      name="${field.name}"
      type="${field.type ?? 'text'}"
      autocomplete="${field.autocomplete}"
      required
      spellcheck="false"
      autocapitalize="none"
      ${attrs}
    />
    ${field.hint ? html`<p class="hint" id="${hintId}">${field.hint}</p>` : null}
  </div>`;
}

export const checkbox = (name: string, label: string, checked: boolean): SafeHtml =>
  html`<div class="field field-check">
    <input id="field-${name}" type="checkbox" name="${name}" value="1" ${checked ? html` checked` : null} />
    <label for="field-${name}">${label}</label>
  </div>`;
