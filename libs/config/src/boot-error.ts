/** The exit status of a start stopped by its configuration (sysexits EX_CONFIG): an invalid variable, a BootError. */
export const EX_CONFIG = 78;

/**
 * A start-up failure that a setting explains, found by the code that used it (the data directory cannot be created,
 * the price table is not one, the database cannot be reached, the port is taken): `variable` names the setting and
 * `problem` says what is wrong with it, never a secret's value. The entry point prints `Failed to start: <variable>:
 * <problem>` on one line and exits with EX_CONFIG, as for an invalid variable (ConfigError); the original error is
 * kept as `cause`, for code, never printed.
 */
export class BootError extends Error {
  constructor(
    readonly variable: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${variable}: ${problem}`, options);
    this.name = 'BootError';
  }
}
