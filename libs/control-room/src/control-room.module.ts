import { Module } from '@nestjs/common';
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
export class ControlRoomModule {}
