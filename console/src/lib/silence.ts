// A silence's status from its time window. Which alerts it matches is the warning service's answer (warning.silencePreview).
import type { Silence } from './api';

export type SilenceStatus = 'active' | 'pending' | 'expired';

export function silenceStatus(s: Pick<Silence, 'startsAt' | 'endsAt'>, now: number = Date.now()): SilenceStatus {
  if (Date.parse(s.endsAt) <= now) return 'expired';
  if (Date.parse(s.startsAt) > now) return 'pending';
  return 'active';
}
