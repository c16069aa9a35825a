import { type CanActivate, type ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { RequestValidationError } from '../errors/domain-error';
import { unknownFieldProblems } from './validation';

const ANY_QUERY = 'lrcp:acceptsAnyQuery';

/** A route that takes whatever query string comes (a page: bookmarks, tracking parameters) and reads none of it. */
export const AcceptsAnyQuery = (): MethodDecorator & ClassDecorator => SetMetadata(ANY_QUERY, true);

/**
 * Refuses a query string on a route that declares none (`@Query()`), as the validation pipe refuses unknown fields
 * of a declared one: 400 `VALIDATION_FAILED`, `property x should not exist`. Without it `?status=open` on a route
 * that has no such filter answered 200 with everything, as if it had filtered. Runs after the API key guard.
 */
@Injectable()
export class UndeclaredQueryGuard implements CanActivate {
  private readonly declared = new WeakMap<object, boolean>();

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const query = context.switchToHttp().getRequest<{ query?: unknown }>().query;
    if (typeof query !== 'object' || query === null) return true;
    const keys = Object.keys(query);
    if (keys.length === 0) return true;
    const handler = context.getHandler();
    if (this.takesQuery(context.getClass(), handler)) return true;
    throw new RequestValidationError(unknownFieldProblems(keys, 'query'));
  }

  private takesQuery(controller: object, handler: { name: string }): boolean {
    let known = this.declared.get(handler);
    if (known === undefined) {
      // Nest keeps a handler's parameters on its class, by method name: `<paramtype>:<index>` keys.
      const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler.name) ?? {}) as Record<
        string,
        unknown
      >;
      known =
        Object.keys(args).some((key) => Number(key.split(':')[0]) === Number(RouteParamtypes.QUERY)) ||
        Reflect.getMetadata(ANY_QUERY, handler) === true ||
        Reflect.getMetadata(ANY_QUERY, controller) === true;
      this.declared.set(handler, known);
    }
    return known;
  }
}
