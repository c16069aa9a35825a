import { ConfigError, loadConfig } from './load-config';

/** The problems `loadConfig` reports for `env` (no .env file), one line per bad variable. */
function problems(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig({ envFile: false, env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

describe('loadConfig messages', () => {
  it('gives one reason per variable: a number its whole rule, not each bound it happened to fail', () => {
    expect(problems({ PORT: 'abc' })).toEqual(['PORT: must be an integer between 0 and 65535 (got "abc")']);
    expect(problems({ PORT: '70000' })).toEqual(['PORT: must be an integer between 0 and 65535 (got "70000")']);
    expect(problems({ PORT: '1.5' })).toEqual(['PORT: must be an integer between 0 and 65535 (got "1.5")']);
    expect(problems({ LLMOBS_SAMPLE_RATE: 'half' })).toEqual([
      'LLMOBS_SAMPLE_RATE: must be a number between 0 and 1 (got "half")',
    ]);
    expect(problems({ SIM_SEED: '-1' })).toEqual(['SIM_SEED: must be an integer of at least 0 (got "-1")']);
  });

  it('says what a boolean, an enum or a pattern takes, without repeating the name', () => {
    expect(problems({ DD_TRACE_ENABLED: 'perhaps' })).toEqual([
      'DD_TRACE_ENABLED: must be true or false (or 1/0, yes/no, on/off) (got "perhaps")',
    ]);
    expect(problems({ LOG_LEVEL: 'loud' })).toEqual([
      'LOG_LEVEL: must be one of the following values: fatal, error, warn, info, debug, trace, silent (got "loud")',
    ]);
    expect(problems({ DATADOG_NOTIFY_HANDLES: 'slack' })).toEqual([
      'DATADOG_NOTIFY_HANDLES: must be a comma-separated list of @handles (got "slack")',
    ]);
  });

  it('says a provider-specific variable is required for that provider, never that it got a value', () => {
    expect(problems({ LLM_PROVIDER: 'gemini' })).toEqual(['GEMINI_API_KEY: required when LLM_PROVIDER=gemini']);
    expect(problems({ LLM_PROVIDER: 'gemini', GEMINI_API_KEY: '  ' })).toEqual([
      'GEMINI_API_KEY: required when LLM_PROVIDER=gemini',
    ]);
    expect(problems({ LLM_PROVIDER: 'vertex' })).toEqual(['GOOGLE_CLOUD_PROJECT: required when LLM_PROVIDER=vertex']);
    expect(problems({ LLM_PROVIDER: 'openai' })).toEqual(['OPENAI_BASE_URL: required when LLM_PROVIDER=openai']);
  });

  it('names what is wrong with a given provider-specific value, redacting a secret', () => {
    expect(problems({ LLM_PROVIDER: 'gemini', GEMINI_API_KEY: 'short' })).toEqual([
      'GEMINI_API_KEY: must be longer than or equal to 8 characters (got [redacted])',
    ]);
    expect(problems({ LLM_PROVIDER: 'vertex', GOOGLE_CLOUD_PROJECT: 'X' })).toEqual([
      'GOOGLE_CLOUD_PROJECT: must be a Google Cloud project id (got "X")',
    ]);
    // A set OPENAI_BASE_URL is checked whatever the provider.
    expect(problems({ OPENAI_BASE_URL: 'ftp://x' })).toEqual([
      'OPENAI_BASE_URL: must be a URL address (got "ftp://x")',
    ]);
  });

  it('lists every bad variable, one line each', () => {
    expect(problems({ PORT: 'abc', LOG_TRUNCATE_CHARS: '5', LLM_PROVIDER: 'gemini' })).toEqual([
      'PORT: must be an integer between 0 and 65535 (got "abc")',
      'LOG_TRUNCATE_CHARS: must be an integer between 16 and 100000 (got "5")',
      'GEMINI_API_KEY: required when LLM_PROVIDER=gemini',
    ]);
  });
});
