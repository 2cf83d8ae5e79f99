import type { TrustedDevice } from '../../store/store.js';
import { html, type SafeHtml } from './html.js';
import { csrfField } from './layout.js';
import { formatTime } from './page-support.js';

/**
 * "Remembered devices" on the account page: each browser whose sign-ins may skip the second factor
 * at low risk, with a button to forget it. Places come from DB-IP Lite, which asks for this credit.
 */
export function devicesSection(view: { devices: TrustedDevice[]; csrfToken: string | undefined }): SafeHtml {
  return html`<section class="card" aria-labelledby="devices-title">
    <h2 id="devices-title">Remembered devices</h2>
    ${
      view.devices.length === 0
        ? html`<p class="hint">
            No device is remembered. Tick “Remember this device” when you enter your code to skip it on a device you trust.
          </p>`
        : html`<div class="table-wrap">
            <table class="sessions">
              <thead>
                <tr>
                  <th scope="col">Device</th>
                  <th scope="col">Where</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Until</th>
                  <th scope="col"><span class="visually-hidden">Action</span></th>
                </tr>
              </thead>
              <tbody>
                ${view.devices.map(
                  (d) =>
                    html`<tr>
                      <td><span class="device">${d.label}</span></td>
                      <td>${d.location || 'unknown'}<span class="muted">${d.ip}</span></td>
                      <td>${formatTime(d.lastUsedAt)}</td>
                      <td>${formatTime(d.expiresAt)}</td>
                      <td class="cell-action">
                        <form method="post" action="/account/devices/${d.id}/revoke">
                          ${csrfField(view.csrfToken)}
                          <button type="submit" class="button button-small button-danger" aria-label="${`Forget ${d.label}`}">
                            Forget
                          </button>
                        </form>
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }
    <p class="hint"><a href="https://db-ip.com">IP Geolocation by DB-IP</a></p>
  </section>`;
}
