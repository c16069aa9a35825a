// The forecast feature's public surface: its module, service and DTOs.
export { ForecastModule } from './forecast.module';
export { ForecastService } from './forecast.service';
export * from './forecast.dto';
