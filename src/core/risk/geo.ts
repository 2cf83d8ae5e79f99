const EARTH_RADIUS_KM = 6371;
const rad = (deg: number) => (deg * Math.PI) / 180;

/** Great-circle distance (haversine formula). */
export function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = rad(lat2 - lat1);
  const dLon = rad(lon2 - lon1);
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

export interface Travel {
  distanceKm: number;
  elapsedMs: number;
  speedKmh: number;
}

export function travelBetween(
  from: { at: number; latitude: number; longitude: number },
  to: { at: number; latitude: number; longitude: number },
): Travel {
  const km = distanceKm(from.latitude, from.longitude, to.latitude, to.longitude);
  const elapsedMs = Math.max(0, to.at - from.at);
  // A minute's floor: two sign-ins in the same instant from far apart are as impossible as it gets.
  const hours = Math.max(elapsedMs, 60_000) / 3_600_000;
  return { distanceKm: km, elapsedMs, speedKmh: km / hours };
}
