import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ControlRoomAssets, DEFAULT_ASSETS_DIR } from './control-room.assets';
import { ControlRoomController, PagePolicyInterceptor } from './control-room.controller';
import { ControlRoomPage } from './control-room.page';

/** The control room page at /ui and its built assets (docs/control-room.md). */
@Module({
  controllers: [ControlRoomController],
  providers: [
    { provide: ControlRoomAssets, useFactory: (): ControlRoomAssets => new ControlRoomAssets(DEFAULT_ASSETS_DIR) },
    ControlRoomPage,
    PagePolicyInterceptor,
  ],
})
export class ControlRoomModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /**
   * `/ui/` (a trailing slash, as people type it) is a permanent redirect to `/ui`: the router tells the two apart, and
   * Nest cannot declare a path with a trailing slash.
   */
  onModuleInit(): void {
    const http = this.adapterHost.httpAdapter;
    http.get('/ui/', (_request: unknown, response: unknown) => {
      http.redirect(response, 301, '/ui');
    });
  }
}
