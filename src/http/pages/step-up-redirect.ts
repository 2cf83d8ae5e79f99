import type { AppError } from '../../auth/errors.js';

/**
 * Where a page sends a user whose sensitive action was refused for want of a recent factor
 * (auth/sensitive-actions.ts): the step-up page, which returns to `returnTo` afterwards. A refused
 * POST is not replayed; the user lands back on the page and submits again.
 */
export function stepUpRedirect(refused: AppError, returnTo: string): string | undefined {
  return refused.code === 'step_up_required' ? `/step-up?return_to=${encodeURIComponent(returnTo)}` : undefined;
}
