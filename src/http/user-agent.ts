import UAParser from 'ua-parser-js';

export interface DeviceDescription {
  browser: string;
  os: string;
  device: string;
}

/** Plain words for a session list: "Firefox 128", "Linux", "desktop". */
export function describeUserAgent(userAgent: string): DeviceDescription {
  const ua = new UAParser(userAgent).getResult();
  const join = (...parts: Array<string | undefined>) => parts.filter(Boolean).join(' ');
  return {
    browser: join(ua.browser.name, ua.browser.version?.split('.')[0]) || 'Unknown browser',
    os: join(ua.os.name, ua.os.version) || 'Unknown OS',
    device: ua.device.type ?? (userAgent ? 'desktop' : 'unknown'),
  };
}
