export * from './tfjs';
