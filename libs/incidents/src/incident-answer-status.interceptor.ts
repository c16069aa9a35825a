import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import type { IncidentAnswerDto } from './dto/incident-response.dto';

/** Says an answer repeats an earlier request's (same `Idempotency-Key` and body). */
export const REPLAYED_HEADER = 'idempotent-replayed';

/** The status of an incident answer: 201 created in Datadog, 200 an open incident updated, 202 waiting (or refused). */
export function answerStatus(answer: IncidentAnswerDto): 201 | 200 | 202 {
  if (answer.incident.status !== 'delivered') return 202;
  return answer.incident.deduplicated ? 200 : 201;
}

/**
 * Sends an incident answer with the status that says what happened (`answerStatus`). Nest sets a route's status
 * once, before the handler runs; a web `Response` carries its own, so the handler's DTO goes out as one.
 */
@Injectable()
export class IncidentAnswerStatusInterceptor implements NestInterceptor<IncidentAnswerDto, Response> {
  intercept(_context: ExecutionContext, next: CallHandler<IncidentAnswerDto>): Observable<Response> {
    return next.handle().pipe(
      map(
        (answer) =>
          new Response(JSON.stringify(answer), {
            status: answerStatus(answer),
            headers: {
              'content-type': 'application/json; charset=utf-8',
              ...(answer.replayed ? { [REPLAYED_HEADER]: 'true' } : {}),
            },
          }),
      ),
    );
  }
}
