import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { type ControlRoomAsset, ControlRoomAssets } from './control-room.assets';
import { type ControlRoomPageConfig, pageConfigOf, pageContentSecurityPolicy, renderPage } from './page-config';

/** The page as served: its HTML with the configuration filled in, its policy, its assets. */
@Injectable()
export class ControlRoomPage implements OnModuleInit {
  private readonly logger = new Logger('ControlRoom');
  readonly config: ControlRoomPageConfig;
  /** The page's own Content-Security-Policy (no inline styles; the RUM intake when RUM is on). */
  readonly contentSecurityPolicy: string;
  private html?: string;

  constructor(
    appConfig: AppConfig,
    private readonly assets: ControlRoomAssets,
  ) {
    this.config = pageConfigOf(appConfig);
    this.contentSecurityPolicy = pageContentSecurityPolicy(this.config);
  }

  onModuleInit(): void {
    if (!this.assets.built) {
      this.logger.warn(`control room assets not built in ${this.assets.folder}: /ui answers 503 (npm run build)`);
    }
  }

  /** The HTML of /ui (503 when the bundle is missing). */
  indexHtml(): string {
    this.html ??= renderPage(this.assets.indexHtml(), this.config);
    return this.html;
  }

  asset(name: string): ControlRoomAsset {
    return this.assets.asset(name);
  }
}
