import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { incidentOutboxContract } from '../../../../test/support/incident-outbox-contract';
import { SqliteIncidentOutbox } from './sqlite-incident-outbox';

const dir = mkdtempSync(join(tmpdir(), 'incidents-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Two instances on one file stand for two processes on one host.
incidentOutboxContract('SqliteIncidentOutbox', () => ({
  open: async () => {
    const store = new SqliteIncidentOutbox(join(dir, 'incidents.sqlite'));
    await store.init();
    return store;
  },
  restartDatabase: () => Promise.resolve(),
}));
