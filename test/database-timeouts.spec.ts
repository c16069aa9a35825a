import { Logger } from '@nestjs/common';
import { DatabaseUnavailableError } from '@app/common';
import type { AppConfig } from '@app/config';
import { createIncidentOutboxStore } from '../libs/incidents/src/outbox/incident-outbox.factory';
import { createRecommendationStore } from '../libs/insights/src/optimization/store/recommendation-store.factory';
import { createLedgerStore } from '../libs/ledger/src/ledger.module';
import { testConfig } from './support/app-config';
import { HungPostgresServer } from './support/hung-postgres-server';

/**
 * The ledger's, the incident outbox's and the recommendations' pools on a PostgreSQL that lets clients in, then never
 * answers (a frozen server, a network partition). They had a 5 s connection timeout and no query timeout: a request
 * drawing an open connection waited as long as it lasted (the hang guard fired). Now each statement and the wait for
 * a connection are bounded by DATABASE_TIMEOUT_MS, and the failure is a 503 naming the store.
 */
describe('the stores on a database that does not answer (DATABASE_TIMEOUT_MS)', () => {
  let server: HungPostgresServer;
  beforeAll(async () => {
    server = await new HungPostgresServer().start();
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await server?.close();
  });

  /** The operation's failure, or 'hung' when it has not settled long after the bound. */
  const outcome = async (operation: Promise<unknown>): Promise<unknown> => {
    let guard: NodeJS.Timeout | undefined;
    const hung = new Promise((resolve) => {
      guard = setTimeout(() => resolve('hung'), 15_000);
    });
    try {
      return await Promise.race([
        operation.then(
          () => 'answered',
          (error: unknown) => error,
        ),
        hung,
      ]);
    } finally {
      clearTimeout(guard);
    }
  };

  const stores: { close(): Promise<void> }[] = [];
  afterAll(() => Promise.all(stores.map((store) => store.close().catch(() => undefined))));
  const open = <T extends { close(): Promise<void> }>(create: (config: AppConfig) => T): T => {
    const store = create(testConfig({ DATABASE_URL: server.url, DATABASE_TIMEOUT_MS: '300' }));
    stores.push(store);
    return store;
  };
  const reads: [string, () => Promise<unknown>][] = [
    ['ledger', () => open(createLedgerStore).countRecords(0, 1)],
    ['incidents', () => open(createIncidentOutboxStore).list({ limit: 5 })],
    ['optimization', () => open(createRecommendationStore).list()],
  ];

  it.each(reads)(
    '%s: a read gives up after the bound, 503 DATABASE_UNAVAILABLE naming the store',
    async (store, read) => {
      const error = await outcome(read());
      expect(error).toBeInstanceOf(DatabaseUnavailableError);
      expect(error).toMatchObject({ store, status: 503, code: 'DATABASE_UNAVAILABLE' });
      expect((error as Error).message).toMatch(/no answer in time/);
    },
  );
});
