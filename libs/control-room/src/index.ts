export { ControlRoomModule } from './control-room.module';
export { ControlRoomAssets, DEFAULT_ASSETS_DIR, type ControlRoomAsset } from './control-room.assets';
export { type ControlRoomPageConfig, pageConfigOf, pageContentSecurityPolicy, rumIntakeOrigin } from './page-config';
