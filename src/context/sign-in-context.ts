import UAParser from 'ua-parser-js';
import type { LoginContext } from '../core/risk/context.js';
import { deviceHash, type DeviceCookie } from './device-cookie.js';
import type { GeoIp } from './geoip.js';
import { plainAddress } from './trusted-proxies.js';

/** The browser as the risk engine compares it: "Chrome 126.0.0", "Windows 10", "desktop". */
export function userAgentFeatures(userAgent: string): { browser: string; os: string; deviceType: string } {
  const ua = new UAParser(userAgent).getResult();
  const join = (...parts: Array<string | undefined>) => parts.filter(Boolean).join(' ');
  return {
    browser: join(ua.browser.name, ua.browser.version),
    os: join(ua.os.name, ua.os.version),
    // ua-parser-js names only mobile, tablet, console, smarttv, wearable, embedded; the rest are desktops.
    deviceType: ua.device.type ?? (userAgent ? 'desktop' : ''),
  };
}

/** Everything the risk engine sees of one sign-in attempt: address, place, browser, device cookie, time. */
export function signInContext(
  userId: string,
  request: { ip: string; userAgent: string; device?: DeviceCookie },
  geo: GeoIp,
  at: number,
): LoginContext {
  const ip = plainAddress(request.ip);
  const place = geo.lookup(ip);
  const login: LoginContext = {
    at,
    userId,
    ip,
    asn: place.asn,
    country: place.country,
    region: place.region,
    city: place.city,
    userAgent: request.userAgent,
    ...userAgentFeatures(request.userAgent),
  };
  if (place.latitude !== undefined && place.longitude !== undefined) {
    login.latitude = place.latitude;
    login.longitude = place.longitude;
  }
  if (request.device) login.deviceId = deviceHash(request.device);
  return login;
}
