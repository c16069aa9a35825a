import { createHash, timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { DomainError, rateLimitRefusal } from '@app/common';
import { AppConfig } from '@app/config';
import { INCIDENTS_ERRORS } from '../incidents.errors';

/** The header Datadog's webhook sends the shared secret in (a custom header of the webhook). */
export const WEBHOOK_SECRET_HEADER = 'x-webhook-secret';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Compares two secrets in constant time (of their digests, so their lengths leak nothing either). */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Lets a webhook through only with `X-Webhook-Secret` equal to INCIDENTS_WEBHOOK_SECRET: without the setting every
 * webhook is refused with 503 (naming the variable to set), a missing or wrong header with 401. Runs before the
 * body is validated, so an unauthenticated caller learns nothing about the payload's shape.
 */
@Injectable()
export class WebhookSecretGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const secret = this.config.incidents.webhookSecret;
    if (!secret) {
      throw new DomainError(
        INCIDENTS_ERRORS.WEBHOOK_NOT_CONFIGURED,
        'Set INCIDENTS_WEBHOOK_SECRET (at least 16 characters) and send it in the X-Webhook-Secret header of the Datadog webhook',
      );
    }
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    const given = request.headers[WEBHOOK_SECRET_HEADER];
    // Over the anonymous rate limit (per client IP): refused (429) unless the secret is right. Datadog sends from a
    // few addresses and retries only on a 5xx: its notifications past the bucket were lost.
    const refusal = rateLimitRefusal(request);
    if (refusal && (typeof given !== 'string' || !secretsEqual(given, secret.reveal()))) throw refusal;
    if (typeof given !== 'string' || given.length === 0) {
      throw new DomainError(INCIDENTS_ERRORS.WEBHOOK_UNAUTHORIZED, 'The X-Webhook-Secret header is missing');
    }
    if (!secretsEqual(given, secret.reveal())) {
      throw new DomainError(INCIDENTS_ERRORS.WEBHOOK_UNAUTHORIZED, 'The X-Webhook-Secret header does not match');
    }
    return true;
  }
}
