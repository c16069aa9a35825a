import { DomainError } from '@app/common';

/**
 * The control room's refusals. They use the generic HTTP codes (`NOT_FOUND`, `SERVICE_UNAVAILABLE`,
 * docs/errors.md): the page has no error of its own beyond a file it does not have and a build that is missing.
 */

/** 404: no such file among the page's built assets. */
export function assetNotFound(file: string): DomainError {
  return new DomainError('NOT_FOUND', `The control room has no asset named ${JSON.stringify(file.slice(0, 100))}.`);
}

/**
 * 503: the page's bundle was not built (`npm run build` builds it after `nest build`). It names no folder: anyone
 * may call `/ui`, and the server's filesystem is not theirs to see; the boot log names it once (ControlRoomPage).
 */
export function assetsNotBuilt(): DomainError {
  return new DomainError(
    'SERVICE_UNAVAILABLE',
    "The control room's assets are not built: run `npm run build` (the warning logged at boot names the folder).",
  );
}
