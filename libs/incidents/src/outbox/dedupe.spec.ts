import { decideAlert, moreSevere, resolutionUpdate } from './dedupe';

const open = { id: 'inc-1', severity: 'SEV-3' as const, alertCount: 2, lastAlertAt: 1_000_000 };
const alert = (now: number, overrides: Partial<Parameters<typeof decideAlert>[1]> = {}) => ({
  now,
  severity: 'SEV-3' as const,
  dedupeWindowMs: 60_000,
  mode: 'open' as const,
  ...overrides,
});

describe('dedupe (decideAlert)', () => {
  it('opens an incident when none is open', () => {
    expect(decideAlert(undefined, alert(0))).toEqual({ action: 'open' });
  });

  it('updates the open incident within the window of its last alert, counting the alert', () => {
    expect(decideAlert(open, alert(1_000_000 + 59_999))).toEqual({
      action: 'update',
      incidentId: 'inc-1',
      severity: 'SEV-3',
      alertCount: 3,
      update: { fields: { alert_count: '3', last_alert: new Date(1_059_999).toISOString() } },
    });
  });

  it('raises the severity of the open incident, never lowers it', () => {
    const raised = decideAlert(open, alert(1_000_001, { severity: 'SEV-1' }));
    expect(raised).toMatchObject({ action: 'update', severity: 'SEV-1', update: { severity: 'SEV-1' } });
    const lower = decideAlert(open, alert(1_000_001, { severity: 'SEV-5' }));
    expect(lower).toMatchObject({ action: 'update', severity: 'SEV-3' });
    expect(lower.action === 'update' && 'severity' in lower.update).toBe(false);
  });

  it('opens a new incident once the window since the last alert has passed, superseding the old one', () => {
    expect(decideAlert(open, alert(1_060_000))).toEqual({ action: 'open', supersede: 'inc-1' });
  });

  it('a window of 0 turns dedupe off', () => {
    expect(decideAlert(open, alert(1_000_000, { dedupeWindowMs: 0 }))).toEqual({ action: 'open', supersede: 'inc-1' });
  });

  it('a warning (update-only) updates an open incident, whatever its age, but never opens one', () => {
    expect(decideAlert(undefined, alert(0, { mode: 'update-only' }))).toEqual({ action: 'ignore' });
    expect(decideAlert(open, alert(1_000_001, { mode: 'update-only' })).action).toBe('update');
    expect(decideAlert(open, alert(1_060_000, { mode: 'update-only' }))).toMatchObject({
      action: 'update',
      alertCount: 3,
    });
  });

  it('a re-notification (continue) updates the open incident past the window too, and opens one when none is open', () => {
    // Datadog re-notifies every renotify_interval (60 to 1440 min on the monitors under datadog/), so a firing alert's
    // Renotify usually comes past the 1 h window: it opened a second incident and left the first active in Datadog.
    expect(decideAlert(open, alert(1_000_000 + 4 * 3_600_000, { mode: 'continue' }))).toMatchObject({
      action: 'update',
      incidentId: 'inc-1',
      alertCount: 3,
    });
    expect(decideAlert(undefined, alert(0, { mode: 'continue' }))).toEqual({ action: 'open' });
  });

  it('orders severities and builds the resolution', () => {
    expect(moreSevere('SEV-2', 'SEV-4')).toBe('SEV-2');
    expect(moreSevere('SEV-5', 'SEV-1')).toBe('SEV-1');
    expect(resolutionUpdate(0)).toEqual({ state: 'resolved', fields: { resolved_at: '1970-01-01T00:00:00.000Z' } });
  });
});
