import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { routeAccessOf, setRequestPrincipal } from '@app/common';
import { AccessPolicy, type GuardedRequest } from './access-policy';

/**
 * The global guard (registered by the app): every controller route is checked against its access rule
 * (`@RequireScope`, `@Public`, `@OwnAuth` from `@app/common`); a route without one is refused. Its refusals go
 * through the exception filters, so the `/v1` routes answer them as OpenAI errors.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly policy: AccessPolicy) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const caller = this.policy.authorize(request, routeAccessOf(context.getClass(), context.getHandler()));
    if (caller?.kind === 'key') setRequestPrincipal(request, caller.name);
    return true;
  }
}
