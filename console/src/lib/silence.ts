// Which alerts a silence matches: the same rules the warning service applies (every given field must match).
import type { Alert, Silence, SilenceRequest } from './api';

export type SilenceStatus = 'active' | 'pending' | 'expired';

export function silenceStatus(s: Pick<Silence, 'startsAt' | 'endsAt'>, now: number = Date.now()): SilenceStatus {
  if (Date.parse(s.endsAt) <= now) return 'expired';
  if (Date.parse(s.startsAt) > now) return 'pending';
  return 'active';
}

/** True when the silence's filters (rule, host, location) all match the alert; location comes from the host directory. */
export function silenceMatches(s: SilenceRequest, alert: Pick<Alert, 'ruleId' | 'hostId'>, locationOf: (hostId: string) => string | undefined): boolean {
  if (s.ruleId && s.ruleId !== alert.ruleId) return false;
  if (s.hostId && s.hostId !== alert.hostId) return false;
  if (s.location && s.location !== locationOf(alert.hostId)) return false;
  return true;
}
