import { BootError, type Secret } from '@app/config';

/**
 * PostgreSQL error codes (SQLSTATE) of a failure to reach or enter the database: class 08 (connection exception),
 * class 28 (invalid authorization: a wrong password), 3D000 (no such database), 53300 (too many connections),
 * 57P03 (the server is starting or shutting down).
 */
const CONNECTION_SQLSTATE = /^(08...|28...|3D000|53300|57P03)$/;

/** A socket error (ECONNREFUSED, ENOTFOUND, ETIMEDOUT...), or pg's own words for a connection that never opened. */
function isConnectionFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (/^E[A-Z0-9_]+$/.test(code) || CONNECTION_SQLSTATE.test(code))) return true;
  return (
    typeof message === 'string' &&
    /timeout exceeded when trying to connect|Connection terminated|does not support SSL/i.test(message)
  );
}

/** Where DATABASE_URL points, without its password: `127.0.0.1:5432, database "ledger", user "app"`. */
function describeTarget(url: URL): string {
  const user = safeDecode(url.username);
  const database = safeDecode(url.pathname.replace(/^\//, '')) || user;
  const parts = [`${url.hostname || url.searchParams.get('host') || 'localhost'}:${url.port || '5432'}`];
  if (database) parts.push(`database "${database}"`);
  if (user) parts.push(`user "${user}"`);
  return parts.join(', ');
}

/**
 * The failure to reach the database named by DATABASE_URL at boot as a BootError naming it: where it points and
 * why (`connection refused (ECONNREFUSED)`, pg's message for a login refused), never its password; undefined for
 * any other error (a failing statement is not the URL's fault).
 */
export function databaseBootError(databaseUrl: Secret, error: unknown): BootError | undefined {
  if (!isConnectionFailure(error)) return undefined;
  const raw = databaseUrl.reveal();
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  const { code, message } = error as { code?: unknown; message?: unknown };
  let reason =
    code === 'ECONNREFUSED'
      ? 'connection refused (ECONNREFUSED): is PostgreSQL running there?'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? `the host cannot be resolved (${code})`
        : typeof message === 'string' && message !== ''
          ? message
          : String(code);
  // pg's messages do not quote the password; made sure of, whatever the message.
  const password = url?.password ?? '';
  for (const secret of [raw, password, safeDecode(password)]) {
    if (secret.length > 0) reason = reason.split(secret).join('[redacted]');
  }
  const target = url ? `PostgreSQL at ${describeTarget(url)}` : 'PostgreSQL';
  return new BootError('DATABASE_URL', `cannot connect to ${target}: ${reason}`, { cause: error });
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Where DATABASE_URL points (`PostgreSQL at 127.0.0.1:5432, database "ledger", user "app"`), never its password. */
export function databaseTarget(databaseUrl: Secret): string {
  try {
    return `PostgreSQL at ${describeTarget(new URL(databaseUrl.reveal()))}`;
  } catch {
    return 'PostgreSQL';
  }
}
