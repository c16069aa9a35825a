import { Injectable, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { type RouteAccess, routeAccessOf } from '@app/common';

/** One controller route and who may call it (`undefined`: no rule, refused to everyone). */
export interface RouteAccessEntry {
  /** `METHOD /path` as routed (`POST /optimization/recommendations/:id/implement`). */
  readonly route: string;
  readonly access: RouteAccess | undefined;
}

function joinPath(...parts: string[]): string {
  const joined = parts
    .flatMap((p) => p.split('/'))
    .filter((p) => p !== '')
    .join('/');
  return `/${joined}`;
}

/** How the catalogue describes an access rule: `invoke`, `invoke (drills: admin)`, `open`, `own:<scheme>`, `none`. */
export function describeAccess(access: RouteAccess | undefined): string {
  if (access === undefined) return 'none';
  if (access.kind === 'open') return 'open';
  if (access.kind === 'own') return `own:${access.scheme}`;
  return access.drills ? `${access.scope} (drills: ${access.drills})` : access.scope;
}

/**
 * Every controller route of the application with its access rule, read from the controllers' metadata: the boot
 * warns about routes without a rule (they are refused), and a unit test pins the whole list (docs/security.md).
 */
@Injectable()
export class RouteAccessCatalog {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  routes(): RouteAccessEntry[] {
    const entries: RouteAccessEntry[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!controller || !wrapper.instance) continue;
      const base = (Reflect.getMetadata(PATH_METADATA, controller) as string | string[] | undefined) ?? '/';
      const prototype = Object.getPrototypeOf(wrapper.instance) as object;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[name];
        if (typeof handler !== 'function') continue;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (path === undefined || method === undefined) continue;
        const access = routeAccessOf(controller, handler);
        for (const b of [base].flat()) {
          for (const p of [path].flat()) {
            entries.push({ route: `${RequestMethod[method]} ${joinPath(b, p)}`, access });
          }
        }
      }
    }
    return entries.sort((a, b) => a.route.localeCompare(b.route));
  }
}
