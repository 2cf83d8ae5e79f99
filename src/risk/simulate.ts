import type { Writable } from 'node:stream';
import { EXTRA_COLUMNS, LineWriter, RBA_COLUMNS, csvField } from './rba-csv.js';
import {
  ANDROID_MODELS,
  BROWSERS,
  COUNTRIES,
  NETWORKS,
  Rng,
  browserAt,
  countryOf,
  networksOf,
  randomIp,
  type BrowserKind,
  type City,
  type Network,
} from './world.js';

export const ATTACKER_MODELS = ['naive', 'vpn', 'targeted', 'very_targeted'] as const;
export type AttackerModel = (typeof ATTACKER_MODELS)[number];
/** legit: a user's own sign-in; *_failure: a wrong password (typo, or credential stuffing). */
export type RowLabel = 'legit' | 'legit_failure' | 'attack' | 'attack_failure';

export interface SimulateOptions {
  seed: number;
  users: number;
  days: number;
  attacksPerModel: number;
  /** Epoch ms of the first day. */
  start: number;
}

export const DEFAULT_SIMULATION: SimulateOptions = { seed: 1, users: 3000, days: 180, attacksPerModel: 1000, start: Date.UTC(2020, 1, 3) };

const DAY = 86_400_000;

interface Place {
  network: Network;
  ip: string;
  country: string;
  city: City;
}

interface SimEvent {
  at: number;
  userId: string;
  place: Place;
  ua: string;
  browser: string;
  os: string;
  deviceType: string;
  deviceId: string;
  success: boolean;
  label: RowLabel;
  attacker: AttackerModel | '';
}

interface Device {
  kind: BrowserKind;
  os: string;
  /** Days this browser lags behind a release before updating. */
  lagDays: number;
  cookie: string;
  /** The day it is replaced by a new device of the same type, if ever. */
  replacedOnDay: number;
  /** Handset model (Android user agents name it). */
  model: string;
}

interface SimUser {
  id: string;
  country: string;
  city: City;
  homeNetwork: Network;
  homeIp: string;
  homeIpSince: number;
  work: Place | undefined;
  devices: Device[];
  /** Mean sign-ins per day. */
  rate: number;
  /** Local hours of the two daily peaks. */
  peaks: [number, number];
  cookieClearRate: number;
  trips: Array<{ from: number; to: number; country: string; city: City }>;
  vpn: Network | undefined;
  events: SimEvent[];
}

/**
 * A seeded synthetic data set in the RBA schema. Legitimate users differ in how often they sign
 * in, their devices (with cookie clearing and replacement), home/work/mobile networks, dynamic
 * IPs, trips, VPN habits and automatic browser upgrades; the four attacker models follow
 * Wiefling et al.: naive (anywhere), VPN (victim's country), targeted (victim's city and device
 * type, the most popular browser for it), very targeted (victim's ISP and exact browser).
 * Attackers never hold the victim's device cookie. Rows are held in memory, then written sorted.
 */
export async function simulate(options: SimulateOptions, data: Writable, labels: Writable): Promise<{ rows: number; attacks: number }> {
  const rng = new Rng(options.seed);
  const users = Array.from({ length: options.users }, () => makeUser(rng, options));
  for (const user of users) generateSignIns(rng, user, options);
  const events = users.flatMap((u) => u.events);
  const attackEvents = generateAttacks(rng, users, events, options);
  const all = events.concat(attackEvents).sort((a, b) => a.at - b.at);

  const out = new LineWriter(data);
  const labelOut = new LineWriter(labels);
  await out.write([...RBA_COLUMNS, ...EXTRA_COLUMNS].join(','));
  await labelOut.write('index,label,attacker_model');
  for (let i = 0; i < all.length; i++) {
    const e = all[i]!;
    const isAttack = e.label === 'attack' || e.label === 'attack_failure';
    await out.write(
      [
        String(i),
        formatTimestamp(e.at),
        e.userId,
        '',
        e.place.ip,
        e.place.country,
        csvField(e.place.city.region),
        csvField(e.place.city.name),
        e.place.network.asn,
        csvField(e.ua),
        csvField(e.browser),
        csvField(e.os),
        e.deviceType,
        e.success ? 'True' : 'False',
        isAttack ? 'True' : 'False',
        e.label === 'attack' ? 'True' : 'False',
        e.deviceId,
        e.place.city.lat.toFixed(4),
        e.place.city.lon.toFixed(4),
      ].join(','),
    );
    await labelOut.write(`${i},${e.label},${e.attacker}`);
  }
  await out.flush();
  await labelOut.flush();
  return { rows: all.length, attacks: attackEvents.filter((e) => e.label === 'attack').length };
}

function formatTimestamp(at: number): string {
  return new Date(at).toISOString().replace('T', ' ').replace('Z', '');
}

const cookie = (rng: Rng) => `${rng.int(2 ** 30).toString(36)}${rng.int(2 ** 30).toString(36)}`;

function makeDevice(rng: Rng, deviceType: BrowserKind['deviceType'], days: number): Device {
  const kind = rng.weighted(
    BROWSERS.filter((b) => b.deviceType === deviceType),
    (b) => b.popularity,
  );
  return {
    kind,
    os: rng.pick(kind.osChoices),
    lagDays: rng.int(15),
    cookie: cookie(rng),
    replacedOnDay: rng.chance(0.15) ? rng.int(days) : Infinity,
    model: rng.weighted(ANDROID_MODELS, (m) => 1 / (1 + ANDROID_MODELS.indexOf(m))),
  };
}

function makeUser(rng: Rng, options: SimulateOptions): SimUser {
  const country = rng.weighted(COUNTRIES, (c) => c.userWeight);
  const city = rng.pick(country.cities);
  const homeNetwork = rng.pick(networksOf(country.code, 'residential'));
  const primary: BrowserKind['deviceType'] = rng.chance(0.6) ? 'desktop' : 'mobile';
  const devices = [makeDevice(rng, primary, options.days)];
  if (primary === 'desktop' ? rng.chance(0.6) : rng.chance(0.4))
    devices.push(makeDevice(rng, primary === 'desktop' ? 'mobile' : 'desktop', options.days));
  if (rng.chance(0.15)) devices.push(makeDevice(rng, 'tablet', options.days));
  const workNetwork = rng.pick(networksOf(country.code, 'residential'));
  const user: SimUser = {
    id: `${rng.chance(0.5) ? '-' : ''}${1 + rng.int(9)}${String(rng.int(1e9)).padStart(9, '0')}${String(rng.int(1e9)).padStart(9, '0')}`,
    country: country.code,
    city,
    homeNetwork,
    homeIp: randomIp(rng, homeNetwork),
    homeIpSince: options.start,
    work: rng.chance(0.5) ? { network: workNetwork, ip: randomIp(rng, workNetwork), country: country.code, city } : undefined,
    devices,
    // Log-normal sign-in frequency: median one sign-in every 4 days, a long tail of daily users.
    rate: Math.min(4, Math.exp(rng.normal(Math.log(0.25), 1))),
    peaks: [rng.normal(9, 2), rng.normal(19, 2)],
    cookieClearRate: rng.weighted(
      [
        { rate: 0.02, share: 70 },
        { rate: 0.2, share: 20 },
        { rate: 0.8, share: 10 },
      ],
      (x) => x.share,
    ).rate,
    trips: [],
    vpn: rng.chance(0.08)
      ? rng.pick(NETWORKS.filter((n) => n.kind === 'hosting' && ['NL', 'SE', 'US', 'DE', 'GB'].includes(n.country)))
      : undefined,
    events: [],
  };
  if (rng.chance(0.35)) {
    for (let day = rng.normal(20, 15); day < options.days; day += 10 + rng.next() * 70) {
      const foreign = country.cities.length === 1 || rng.chance(0.4);
      const destCountry = foreign ? rng.weighted(COUNTRIES, (c) => c.userWeight + c.attackWeight) : country;
      const destCity = rng.pick(
        destCountry.cities.filter((c) => c !== city).length ? destCountry.cities.filter((c) => c !== city) : destCountry.cities,
      );
      const from = options.start + Math.max(0, day) * DAY;
      user.trips.push({ from, to: from + (2 + rng.int(9)) * DAY, country: destCountry.code, city: destCity });
    }
  }
  return user;
}

function deviceAt(rng: Rng, device: Device, day: number): Device {
  if (day >= device.replacedOnDay) {
    const next = makeDevice(rng, device.kind.deviceType, Infinity);
    next.replacedOnDay = Infinity;
    Object.assign(device, next);
  }
  return device;
}

function generateSignIns(rng: Rng, user: SimUser, options: SimulateOptions): void {
  const offset = countryOf(user.country).utcOffset;
  const mobileDevice = user.devices.find((d) => d.kind.deviceType === 'mobile');
  const desktopDevice = user.devices.find((d) => d.kind.deviceType === 'desktop');
  for (let day = 0; day < options.days; day++) {
    const times: number[] = [];
    for (let k = rng.poisson(user.rate); k > 0; k--) {
      const localHour = (((rng.normal(rng.pick(user.peaks), 1.5) % 24) + 24) % 24) - offset;
      times.push(options.start + day * DAY + Math.round(((localHour + 24) % 24) * 3_600_000 + rng.int(3_600_000) - 1_800_000));
    }
    times.sort((a, b) => a - b);
    for (const at of times) {
      if (at < options.start) continue;
      const trip = user.trips.find((t) => at >= t.from && at < t.to);
      let place: Place;
      let device: Device;
      if (trip) {
        if (mobileDevice && rng.chance(0.5)) {
          // Roaming phones egress through the home carrier: geolocated at home.
          const carrier = networksOf(user.country, 'mobile')[0]!;
          place = { network: carrier, ip: randomIp(rng, carrier), country: user.country, city: user.city };
          device = mobileDevice;
        } else {
          const hotel = rng.pick(networksOf(trip.country, 'residential'));
          place = { network: hotel, ip: randomIp(rng, hotel), country: trip.country, city: trip.city };
          device = rng.pick(user.devices);
        }
      } else {
        const r = rng.next();
        if (r < 0.2 && user.work) {
          place = user.work;
          device = desktopDevice ?? user.devices[0]!;
        } else if (r < 0.45 && mobileDevice) {
          const carrier = networksOf(user.country, 'mobile')[0]!;
          place = { network: carrier, ip: randomIp(rng, carrier), country: user.country, city: user.city };
          device = mobileDevice;
        } else {
          // Dynamic residential addresses: a new one about every 45 days.
          if (rng.chance(1 - Math.exp(-(at - user.homeIpSince) / (45 * DAY)))) {
            user.homeIp = randomIp(rng, user.homeNetwork);
            user.homeIpSince = at;
          }
          place = { network: user.homeNetwork, ip: user.homeIp, country: user.country, city: user.city };
          device = rng.pick(user.devices);
        }
      }
      if (user.vpn && rng.chance(0.4)) {
        const vpnCountry = countryOf(user.vpn.country);
        place = { network: user.vpn, ip: randomIp(rng, user.vpn), country: vpnCountry.code, city: vpnCountry.cities[0]! };
      }
      device = deviceAt(rng, device, day);
      if (rng.chance(user.cookieClearRate)) device.cookie = cookie(rng);
      const b = browserAt(device.kind, device.os, day - device.lagDays, device.model);
      const event: SimEvent = {
        at,
        userId: user.id,
        place,
        ua: b.ua,
        browser: b.browser,
        os: b.os,
        deviceType: device.kind.deviceType,
        deviceId: device.cookie,
        success: true,
        label: 'legit',
        attacker: '',
      };
      if (rng.chance(0.03)) user.events.push({ ...event, at: at - 5000 - rng.int(55_000), success: false, label: 'legit_failure' });
      user.events.push(event);
    }
  }
}

function generateAttacks(rng: Rng, users: SimUser[], legit: SimEvent[], options: SimulateOptions): SimEvent[] {
  const victims = users.filter((u) => u.events.filter((e) => e.success).length >= 2);
  const attacks: SimEvent[] = [];
  if (victims.length === 0) return attacks;
  const end = options.start + options.days * DAY;
  for (const model of ATTACKER_MODELS) {
    for (let k = 0; k < options.attacksPerModel; k++) {
      const victim = rng.pick(victims);
      const own = victim.events.filter((e) => e.success);
      const first = own[1]!.at;
      // Attackers keep the same daily rhythm as the service's users overall (Freeman's attacker).
      const timeOfDay = (rng.pick(legit).at - options.start) % DAY;
      const day = Math.floor((first + rng.next() * (end - first) - options.start) / DAY);
      const at = Math.max(first + 1, options.start + day * DAY + timeOfDay);
      const lastOwn = [...own].reverse().find((e) => e.at < at) ?? own[0]!;
      const dayIndex = Math.floor((at - options.start) / DAY);
      const home: Place = { network: victim.homeNetwork, ip: victim.homeIp, country: victim.country, city: victim.city };
      let place: Place;
      let browser: { ua: string; browser: string; os: string; deviceType: string };
      const popular = (deviceType?: string) => {
        const kinds = BROWSERS.filter((b) => deviceType === undefined || b.deviceType === deviceType);
        const kind = deviceType ? kinds.reduce((a, b) => (b.popularity > a.popularity ? b : a)) : rng.weighted(kinds, (b) => b.popularity);
        return { ...browserAt(kind, kind.osChoices[0]!, dayIndex), deviceType: kind.deviceType };
      };
      if (model === 'naive') {
        const country = rng.weighted(COUNTRIES, (c) => c.attackWeight);
        const network = rng.pick(networksOf(country.code, rng.chance(0.7) ? 'hosting' : 'residential'));
        place = { network, ip: randomIp(rng, network), country: country.code, city: rng.pick(country.cities) };
        browser = popular();
      } else if (model === 'vpn') {
        const network = networksOf(victim.country, 'hosting')[0]!;
        place = { network, ip: randomIp(rng, network), country: victim.country, city: countryOf(victim.country).cities[0]! };
        browser = popular();
      } else if (model === 'targeted') {
        const network = rng.pick(networksOf(victim.country, 'residential'));
        place = { network, ip: randomIp(rng, network), country: victim.country, city: victim.city };
        browser = popular(lastOwn.deviceType);
      } else {
        place = { ...home, ip: randomIp(rng, victim.homeNetwork) };
        browser = { ua: lastOwn.ua, browser: lastOwn.browser, os: lastOwn.os, deviceType: lastOwn.deviceType };
      }
      const attack: SimEvent = {
        at,
        userId: victim.id,
        place,
        ...browser,
        deviceId: cookie(rng),
        success: true,
        label: 'attack',
        attacker: model,
      };
      attacks.push(attack);
      // Half the untargeted attackers work from a credential-stuffing list: failures on other accounts first.
      if ((model === 'naive' || model === 'vpn') && rng.chance(0.5)) {
        for (let f = 5 + rng.int(26); f > 0; f--) {
          attacks.push({
            ...attack,
            at: at - 1000 - rng.int(3_000_000),
            userId: rng.pick(users).id,
            success: false,
            label: 'attack_failure',
          });
        }
      }
    }
  }
  return attacks;
}
