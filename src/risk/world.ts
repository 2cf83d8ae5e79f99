/**
 * The synthetic world the simulator draws from: countries with cities, residential, mobile and
 * hosting networks, and browsers that release new versions on a schedule. Numbers are plausible
 * round values, not measurements; docs/risk.md lists them as the simulator's assumptions.
 */

/** Seeded PRNG (mulberry32): the same seed gives the same data set. */
export class Rng {
  constructor(private state: number) {}
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  weighted<T>(items: readonly T[], weight: (item: T) => number): T {
    let total = 0;
    for (const item of items) total += weight(item);
    let r = this.next() * total;
    for (const item of items) if ((r -= weight(item)) < 0) return item;
    return items[items.length - 1]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  normal(mean: number, sd: number): number {
    const u = 1 - this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  /** Poisson-distributed count (Knuth; small means only). */
  poisson(mean: number): number {
    const limit = Math.exp(-mean);
    let k = 0;
    for (let p = this.next(); p > limit; p *= this.next()) k++;
    return k;
  }
}

export interface City {
  name: string;
  region: string;
  lat: number;
  lon: number;
}

export interface Network {
  asn: string;
  kind: 'residential' | 'mobile' | 'hosting';
  country: string;
  /** First two octets of the addresses it hands out. */
  prefix: string;
}

export interface Country {
  code: string;
  /** Share of the service's users living there. */
  userWeight: number;
  /** Share of naive attackers' infrastructure there. */
  attackWeight: number;
  /** Hours ahead of UTC, for users' daily rhythm. */
  utcOffset: number;
  cities: City[];
}

const c = (name: string, region: string, lat: number, lon: number): City => ({ name, region, lat, lon });

export const COUNTRIES: Country[] = [
  {
    code: 'NO',
    userWeight: 55,
    attackWeight: 1,
    utcOffset: 1,
    cities: [
      c('Oslo', 'Oslo', 59.91, 10.75),
      c('Bergen', 'Vestland', 60.39, 5.32),
      c('Trondheim', 'Trondelag', 63.43, 10.39),
      c('Stavanger', 'Rogaland', 58.97, 5.73),
    ],
  },
  {
    code: 'SE',
    userWeight: 6,
    attackWeight: 2,
    utcOffset: 1,
    cities: [c('Stockholm', 'Stockholm', 59.33, 18.06), c('Gothenburg', 'Vastra Gotaland', 57.71, 11.97)],
  },
  { code: 'DK', userWeight: 4, attackWeight: 1, utcOffset: 1, cities: [c('Copenhagen', 'Capital Region', 55.68, 12.57)] },
  {
    code: 'DE',
    userWeight: 6,
    attackWeight: 8,
    utcOffset: 1,
    cities: [c('Berlin', 'Berlin', 52.52, 13.4), c('Munich', 'Bavaria', 48.14, 11.58), c('Frankfurt', 'Hesse', 50.11, 8.68)],
  },
  {
    code: 'GB',
    userWeight: 5,
    attackWeight: 5,
    utcOffset: 0,
    cities: [c('London', 'England', 51.51, -0.13), c('Manchester', 'England', 53.48, -2.24)],
  },
  { code: 'FR', userWeight: 3, attackWeight: 5, utcOffset: 1, cities: [c('Paris', 'Ile-de-France', 48.86, 2.35)] },
  { code: 'ES', userWeight: 2, attackWeight: 2, utcOffset: 1, cities: [c('Madrid', 'Madrid', 40.42, -3.7)] },
  { code: 'PL', userWeight: 3, attackWeight: 4, utcOffset: 1, cities: [c('Warsaw', 'Mazovia', 52.23, 21.01)] },
  { code: 'NL', userWeight: 2, attackWeight: 10, utcOffset: 1, cities: [c('Amsterdam', 'North Holland', 52.37, 4.9)] },
  {
    code: 'US',
    userWeight: 8,
    attackWeight: 25,
    utcOffset: -5,
    cities: [
      c('New York', 'New York', 40.71, -74.01),
      c('Chicago', 'Illinois', 41.88, -87.63),
      c('San Francisco', 'California', 37.77, -122.42),
      c('Dallas', 'Texas', 32.78, -96.8),
    ],
  },
  { code: 'BR', userWeight: 2, attackWeight: 8, utcOffset: -3, cities: [c('Sao Paulo', 'Sao Paulo', -23.55, -46.63)] },
  { code: 'IN', userWeight: 2, attackWeight: 10, utcOffset: 5.5, cities: [c('Mumbai', 'Maharashtra', 19.08, 72.88)] },
  { code: 'JP', userWeight: 1, attackWeight: 3, utcOffset: 9, cities: [c('Tokyo', 'Tokyo', 35.68, 139.69)] },
  { code: 'AU', userWeight: 0.5, attackWeight: 2, utcOffset: 10, cities: [c('Sydney', 'New South Wales', -33.87, 151.21)] },
  { code: 'RU', userWeight: 0.5, attackWeight: 14, utcOffset: 3, cities: [c('Moscow', 'Moscow', 55.76, 37.62)] },
];

/** Three residential ISPs, one mobile carrier and one hosting/VPN provider per country. */
export const NETWORKS: Network[] = COUNTRIES.flatMap((country, i) => {
  const net = (k: number, kind: Network['kind']): Network => ({
    asn: String(64_000 + i * 10 + k),
    kind,
    country: country.code,
    prefix: `${20 + i * 10 + k}.${(i * 37 + k * 11) % 250}`,
  });
  return [net(0, 'residential'), net(1, 'residential'), net(2, 'residential'), net(3, 'mobile'), net(4, 'hosting')];
});

export const networksOf = (country: string, kind: Network['kind']) => NETWORKS.filter((n) => n.country === country && n.kind === kind);
export const countryOf = (code: string) => COUNTRIES.find((x) => x.code === code)!;

export function randomIp(rng: Rng, network: Network): string {
  return `${network.prefix}.${rng.int(256)}.${1 + rng.int(254)}`;
}

/** A browser on an OS; the version advances every `releaseDays` from `baseVersion`. */
export interface BrowserKind {
  id: string;
  deviceType: 'desktop' | 'mobile' | 'tablet';
  popularity: number;
  releaseDays: number;
  baseVersion: number;
  osChoices: string[];
  browserName: string;
  ua: (version: number, os: string, patch: number, model: string) => string;
}

/** Android handsets as user agents name them, most common first (each half as common as the last but one). */
export const ANDROID_MODELS = [
  'SM-G960F',
  'SM-A505F',
  'SM-G973F',
  'Pixel 3',
  'SM-A405FN',
  'Mi A2',
  'ONEPLUS A6013',
  'SM-G950F',
  'Moto G (7)',
  'H8314',
  'SM-N960F',
  'Nokia 7.2',
  'Pixel 4',
  'VOG-L29',
  'SM-A705FN',
];

const winNt = (os: string) => (os === 'Windows 7' ? 'Windows NT 6.1' : 'Windows NT 10.0');
export const BROWSERS: BrowserKind[] = [
  {
    id: 'chrome-win',
    deviceType: 'desktop',
    popularity: 30,
    releaseDays: 42,
    baseVersion: 80,
    osChoices: ['Windows 10', 'Windows 10', 'Windows 7'],
    browserName: 'Chrome',
    ua: (v, os, patch) =>
      `Mozilla/5.0 (${winNt(os)}; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.${3987 + (v - 80) * 60}.${100 + (v % 7) * 13 + patch * 7} Safari/537.36`,
  },
  {
    id: 'firefox-win',
    deviceType: 'desktop',
    popularity: 8,
    releaseDays: 28,
    baseVersion: 72,
    osChoices: ['Windows 10'],
    browserName: 'Firefox',
    ua: (v, os) => `Mozilla/5.0 (${winNt(os)}; Win64; x64; rv:${v}.0) Gecko/20100101 Firefox/${v}.0`,
  },
  {
    id: 'edge-win',
    deviceType: 'desktop',
    popularity: 6,
    releaseDays: 42,
    baseVersion: 80,
    osChoices: ['Windows 10'],
    browserName: 'Edge',
    ua: (v, _os, patch) =>
      `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.${3987 + (v - 80) * 60}.${patch * 5} Safari/537.36 Edg/${v}.0.${361 + v}.${patch * 5}`,
  },
  {
    id: 'safari-mac',
    deviceType: 'desktop',
    popularity: 8,
    releaseDays: 90,
    baseVersion: 13,
    osChoices: ['Mac OS X 10.15', 'Mac OS X 10.14'],
    browserName: 'Safari',
    ua: (v, os) =>
      `Mozilla/5.0 (Macintosh; Intel Mac OS X ${os.slice(9).replace('.', '_')}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${v}.${v % 3} Safari/605.1.15`,
  },
  {
    id: 'chrome-android',
    deviceType: 'mobile',
    popularity: 22,
    releaseDays: 42,
    baseVersion: 80,
    osChoices: ['Android 10', 'Android 9', 'Android 8.1'],
    browserName: 'Chrome Mobile',
    ua: (v, os, patch, model) =>
      `Mozilla/5.0 (Linux; ${os}; ${model}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.${3987 + (v - 80) * 60}.${99 + patch * 7} Mobile Safari/537.36`,
  },
  {
    id: 'samsung-android',
    deviceType: 'mobile',
    popularity: 5,
    releaseDays: 120,
    baseVersion: 11,
    osChoices: ['Android 10', 'Android 9'],
    browserName: 'Samsung Internet',
    ua: (v, os, _patch, model) =>
      `Mozilla/5.0 (Linux; ${os}; SAMSUNG ${model}) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/${v}.1 Chrome/79.0.3945.136 Mobile Safari/537.36`,
  },
  {
    id: 'safari-iphone',
    deviceType: 'mobile',
    popularity: 18,
    releaseDays: 60,
    baseVersion: 13,
    osChoices: ['iOS'],
    browserName: 'Mobile Safari',
    ua: (v) =>
      `Mozilla/5.0 (iPhone; CPU iPhone OS ${v}_${v % 4} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${v}.${v % 4} Mobile/15E148 Safari/604.1`,
  },
  {
    id: 'safari-ipad',
    deviceType: 'tablet',
    popularity: 3,
    releaseDays: 60,
    baseVersion: 13,
    osChoices: ['iOS'],
    browserName: 'Mobile Safari',
    ua: (v) =>
      `Mozilla/5.0 (iPad; CPU OS ${v}_${v % 4} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${v}.${v % 4} Mobile/15E148 Safari/604.1`,
  },
];

/**
 * The browser columns for a browser at a time, as the data set writes them. Between releases a
 * patch level moves every 10 days, so browsers updating at different speeds differ in their UA.
 */
export function browserAt(
  kind: BrowserKind,
  os: string,
  daysSinceStart: number,
  model = ANDROID_MODELS[0]!,
): { ua: string; browser: string; os: string } {
  const days = Math.max(0, daysSinceStart);
  const version = kind.baseVersion + Math.floor(days / kind.releaseDays);
  const patch = Math.floor((days % kind.releaseDays) / 10);
  // iOS versions move with Safari's.
  const osName = os === 'iOS' ? `iOS ${version}.${version % 4}` : os;
  const minor = kind.browserName === 'Safari' || kind.browserName === 'Mobile Safari' ? `${version}.${version % 4}` : `${version}.0`;
  return { ua: kind.ua(version, os === 'iOS' ? osName : os, patch, model), browser: `${kind.browserName} ${minor}`, os: osName };
}
