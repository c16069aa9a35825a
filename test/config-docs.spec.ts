import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, envVariableNames, loadConfig } from '@app/config';

describe('configuration', () => {
  it('documents every environment variable in docs/configuration.md', () => {
    const doc = readFileSync(resolve(__dirname, '../docs/configuration.md'), 'utf8');
    const missing = envVariableNames().filter((name) => !doc.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('lists every bad variable at once, never a secret value', () => {
    let error: unknown;
    try {
      loadConfig({
        envFile: false,
        env: { PORT: '70000', LLM_PROVIDER: 'gemini', GEMINI_API_KEY: 'sh', DD_TRACE_ENABLED: 'perhaps' },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/PORT/);
    expect(message).toMatch(/GEMINI_API_KEY/);
    expect(message).toMatch(/DD_TRACE_ENABLED/);
    expect(message).not.toContain('"sh"');
  });

  it('applies defaults, parses lists and keeps secrets out of JSON', () => {
    const config = loadConfig({
      envFile: false,
      env: {
        LLM_FALLBACK_MODELS: ' a , b,,gemini-2.5-flash ',
        DD_API_KEY: 'abcdefgh12345',
        DD_APP_KEY: 'abcdefgh12345',
      },
    });
    expect(config.http.port).toBe(3000);
    expect(config.llm.fallbackModels).toEqual(['a', 'b']);
    expect(config.datadog.configured).toBe(true);
    expect(JSON.stringify(config)).not.toContain('abcdefgh12345');
    expect(config.datadog.apiKey?.reveal()).toBe('abcdefgh12345');
    expect(Object.isFrozen(config.llm)).toBe(true);
  });

  it('requires the provider-specific variables only for that provider', () => {
    expect(() => loadConfig({ envFile: false, env: { LLM_PROVIDER: 'vertex' } })).toThrow(
      /GOOGLE_CLOUD_PROJECT: required when LLM_PROVIDER=vertex$/m,
    );
    expect(() => loadConfig({ envFile: false, env: { LLM_PROVIDER: 'openai' } })).toThrow(
      /OPENAI_BASE_URL: required when LLM_PROVIDER=openai$/m,
    );
    expect(() => loadConfig({ envFile: false, env: { LLM_PROVIDER: 'gemini' } })).toThrow(
      /GEMINI_API_KEY: required when LLM_PROVIDER=gemini$/m,
    );
    expect(loadConfig({ envFile: false, env: { LLM_PROVIDER: 'simulated' } }).llm.gemini.apiKey).toBeUndefined();
    expect(
      loadConfig({ envFile: false, env: { LLM_PROVIDER: 'vertex', GOOGLE_CLOUD_PROJECT: 'my-project-1' } }).llm.vertex
        .project,
    ).toBe('my-project-1');
  });
});

describe('.env.example', () => {
  it('lists every environment variable', () => {
    const example = readFileSync(resolve(__dirname, '../.env.example'), 'utf8');
    expect(envVariableNames().filter((name) => !new RegExp(`^# ${name}=`, 'm').test(example))).toEqual([]);
  });
});
