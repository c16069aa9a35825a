import {
  type CallHandler,
  Controller,
  type ExecutionContext,
  Get,
  Injectable,
  type NestInterceptor,
  Param,
  StreamableFile,
  UseInterceptors,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Observable } from 'rxjs';
import { AcceptsAnyQuery, Public } from '@app/common';
import { ControlRoomPage } from './control-room.page';

/** Sets the page's own Content-Security-Policy on /ui: no inline styles, and the RUM intake when RUM is on. */
@Injectable()
export class PagePolicyInterceptor implements NestInterceptor {
  constructor(private readonly page: ControlRoomPage) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    context
      .switchToHttp()
      .getResponse<{ header(name: string, value: string): unknown }>()
      .header('content-security-policy', this.page.contentSecurityPolicy);
    return next.handle();
  }
}

/**
 * The control room (docs/control-room.md): a page that shows the control plane working, from the JSON endpoints
 * it calls with the API key typed into its login form. The page and its files hold no data, so they are open like
 * /docs (AUTH_OPEN_PATHS can close them: then they need the `read` scope); every figure on it needs a key.
 * Not part of the API: left out of the OpenAPI document.
 */
@ApiExcludeController()
@Controller('ui')
@Public({ openPath: '/ui' })
// A page: a bookmark or a link may carry any query string; nothing reads it.
@AcceptsAnyQuery()
export class ControlRoomController {
  constructor(private readonly page: ControlRoomPage) {}

  /** The page. */
  @Get()
  @UseInterceptors(PagePolicyInterceptor)
  index(): StreamableFile {
    const html = Buffer.from(this.page.indexHtml(), 'utf8');
    return new StreamableFile(html, { type: 'text/html; charset=utf-8', length: html.length });
  }

  /** Its scripts and styles (files, never inline: the security headers' policy allows only 'self'). */
  @Get('assets/:file')
  asset(@Param('file') file: string): StreamableFile {
    const asset = this.page.asset(file);
    return new StreamableFile(asset.body, { type: asset.type, length: asset.body.length });
  }
}
