export * from './api-keys';
export * from './app-config';
export * from './boot-error';
export * from './config.module';
export * from './env.dto';
export * from './load-config';
export * from './secret';
