import type { IncomingHttpHeaders } from 'node:http';
import { upstreamHttpError } from './upstream-errors';
import type { UpstreamHttpError } from './upstream-http.error';

/**
 * A Vertex AI error names the project: a 404 `Publisher Model \`projects/<id>/locations/...\` was not found`, a 403
 * `Permission ... denied on resource '//aiplatform.googleapis.com/projects/<id>/...'`, or its number (`... in project
 * 123456789012 ...`, `?project=123456789012`). The project is configuration, not the caller's to know: the message
 * goes into the problem detail (and the span and log line; the operator has it in GOOGLE_CLOUD_PROJECT), so it is replaced
 * by `<project>` there.
 */
export function withoutProject(message: string, project: string | undefined): string {
  let out = message
    .replace(/\bprojects\/[^/\s'"`]+/g, 'projects/<project>')
    .replace(/\b(project[ =:]\s*)\d{6,}\b/gi, '$1<project>');
  // A project id has 6 to 30 characters: a shorter value would take pieces of words with it.
  if (project !== undefined && project.length >= 6) out = out.split(project).join('<project>');
  return out;
}

/**
 * `upstreamHttpError` of a Google error body without the project in it (`withoutProject`): the Google adapter's
 * fetch builds its HTTP errors with it.
 */
export function hideProject(
  project: string | undefined,
): (status: number, headers: IncomingHttpHeaders, body: string) => UpstreamHttpError {
  return (status, headers, body) => upstreamHttpError(status, headers, withoutProject(body, project));
}
