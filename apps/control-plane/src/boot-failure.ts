import { type AppConfig, BootError, EX_CONFIG } from '@app/config';

export interface BootFailure {
  /** One line for stderr (a stack only for a failure nothing explains). */
  readonly message: string;
  readonly exitCode: number;
}

/**
 * The one place a failed start is told. A failure a setting explains (a BootError thrown by the code that used it, or
 * the listening socket refused: PORT, HOST) is one line naming the variable, exit 78 (EX_CONFIG), as an invalid
 * variable is (ConfigError, reported by `getBootConfig`); anything else is a defect: its stack, exit 1.
 */
export function bootFailure(error: unknown, http: Pick<AppConfig['http'], 'host' | 'port'>): BootFailure {
  const known = error instanceof BootError ? error : listenError(error, http);
  if (known) return { message: `Failed to start: ${known.message}`, exitCode: EX_CONFIG };
  const told = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { message: `Failed to start: ${told}`, exitCode: 1 };
}

/** The socket errors of `listen`, as the setting that caused them; undefined for any other error. */
export function listenError(
  error: unknown,
  { host, port }: Pick<AppConfig['http'], 'host' | 'port'>,
): BootError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, syscall } = error as NodeJS.ErrnoException;
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  if (syscall === 'listen' || syscall === 'bind') {
    if (code === 'EADDRINUSE')
      return new BootError('PORT', `${where} is already in use by another process (EADDRINUSE)`, { cause: error });
    if (code === 'EACCES')
      return new BootError('PORT', `no permission to listen on ${where} (EACCES: ports below 1024 need privileges)`, {
        cause: error,
      });
    if (code === 'EADDRNOTAVAIL')
      return new BootError('HOST', `${host} is not an address of this machine (EADDRNOTAVAIL)`, { cause: error });
  }
  if (syscall === 'getaddrinfo' && (code === 'ENOTFOUND' || code === 'EAI_AGAIN'))
    return new BootError('HOST', `${host} cannot be resolved to an address (${code})`, { cause: error });
  return undefined;
}
