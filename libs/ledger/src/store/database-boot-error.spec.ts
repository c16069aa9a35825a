import { createServer } from 'node:net';
import { Pool } from 'pg';
import { BootError, Secret } from '@app/config';
import { databaseBootError } from './database-boot-error';

/** A loopback port nothing listens on: bound, read, closed. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('databaseBootError', () => {
  it('tells a refused connection as DATABASE_URL: where it points, why, never the password', async () => {
    const port = await freePort();
    const url = new Secret(`postgres://u:s3cret-pw@127.0.0.1:${port}/db`);
    const pool = new Pool({ connectionString: url.reveal(), connectionTimeoutMillis: 2000 });
    const failure = await pool.connect().then(
      () => undefined,
      (error: unknown) => error,
    );
    await pool.end();
    const error = databaseBootError(url, failure);
    expect(error).toBeInstanceOf(BootError);
    expect(error?.variable).toBe('DATABASE_URL');
    expect(error?.message).toBe(
      `DATABASE_URL: cannot connect to PostgreSQL at 127.0.0.1:${port}, database "db", user "u": ` +
        'connection refused (ECONNREFUSED): is PostgreSQL running there?',
    );
  });

  it("gives the server's reason for a refused login, and scrubs the password from any message", () => {
    const url = new Secret('postgres://app:p%40ss-w0rd@db.internal:6432/ledger');
    const login = Object.assign(new Error('password authentication failed for user "app"'), { code: '28P01' });
    expect(databaseBootError(url, login)?.message).toBe(
      'DATABASE_URL: cannot connect to PostgreSQL at db.internal:6432, database "ledger", user "app": ' +
        'password authentication failed for user "app"',
    );
    const quoting = Object.assign(new Error('bad password p@ss-w0rd in p%40ss-w0rd'), { code: 'ECONNRESET' });
    const message = databaseBootError(url, quoting)?.message ?? '';
    expect(message).toMatch(/bad password \[redacted\] in \[redacted\]$/);
    expect(message).not.toContain('w0rd');
    expect(databaseBootError(url, new Error('timeout exceeded when trying to connect'))?.message).toMatch(
      /^DATABASE_URL: cannot connect to .*: timeout exceeded when trying to connect$/,
    );
  });

  it('leaves errors that are not about reaching the database alone', () => {
    const url = new Secret('postgres://u:pw@127.0.0.1:5432/db');
    expect(databaseBootError(url, Object.assign(new Error('syntax error'), { code: '42601' }))).toBeUndefined();
    expect(databaseBootError(url, new TypeError('x is not a function'))).toBeUndefined();
  });
});
