import type { AuthDeps } from '../auth/deps.js';
import { maskedConfig, type ConfigValue } from '../core/admin/config-view.js';

/** The configuration in force, secrets masked, and the console's own rule (session.sensitive_max_age) spelled out. */
export function effectivePolicy(deps: AuthDeps): { config: ConfigValue; console: { adminFreshnessMs: number } } {
  return { config: maskedConfig(deps.config), console: { adminFreshnessMs: deps.config.session.sensitiveMaxAgeMs } };
}
