// Types of scripts/licences.mjs for the TypeScript tests that import it.
export type LicenceClass = 'permissive' | 'weak-copyleft' | 'strong-copyleft' | 'unknown';
export interface PackageLicence {
  name: string;
  version: string;
  declared: string;
  license: string;
  kind: LicenceClass;
  note?: string;
}
export interface BundledData {
  what: string;
  files: string[];
  via: string;
  source: string;
  license: string;
  attribution: string;
}
export interface LicenceReport {
  packages: PackageLicence[];
  data: BundledData[];
  problems: string[];
}
export const ROOT: string;
export const OUTPUT: string;
export function classify(expression: string | undefined): LicenceClass;
export function collectLicences(root?: string): LicenceReport;
export function renderLicences(report: Pick<LicenceReport, 'packages' | 'data'>): string;
