import { tmpdir } from 'node:os';
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
    // Decimal notation only: hexadecimal or binary read as a number would be a budget of $16 for "0x10".
    expect(problems({ DAILY_BUDGET_USD: '0x10', LLMOBS_SAMPLE_RATE: '0b1' })).toEqual([
      'LLMOBS_SAMPLE_RATE: must be a number between 0 and 1 (got "0b1")',
      'DAILY_BUDGET_USD: must be a number of at least 0 (got "0x10")',
    ]);
    expect(
      loadConfig({ envFile: false, env: { DAILY_BUDGET_USD: ' 1.5e1 ', LLMOBS_SAMPLE_RATE: '.5' } }),
    ).toMatchObject({
      budget: { dailyUsd: 15 },
      tracing: { llmobsSampleRate: 0.5 },
    });
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
      'OPENAI_BASE_URL: must be an http:// or https:// URL (got "ftp://x")',
    ]);
  });

  it('never quotes the user information or the query of a refused URL (a password with @, /, # or a space in it)', () => {
    const secret = 'Pr0xy p@ss/w#rd';
    const lines = problems({
      OPENAI_BASE_URL: `http://proxyuser:${secret}@127.0.0.1:8080/v1`,
      DD_TRACE_AGENT_URL: 'http://127.0.0.1:8126/?token=T0ken-Value-123 x',
      DATADOG_API_URL: 'ftp://127.0.0.1/api#frag-Secret-456',
    });
    expect(lines).toEqual([
      'DD_TRACE_AGENT_URL: must be an http:// or https:// URL, or unix:// and the socket\'s absolute path (unix:///var/run/datadog/apm.socket) (got "http://127.0.0.1:8126/?[redacted]")',
      'DATADOG_API_URL: must be an http:// or https:// URL (got "ftp://127.0.0.1/api#[redacted]")',
      'OPENAI_BASE_URL: must be an http:// or https:// URL (got "http://[redacted]@127.0.0.1:8080/v1")',
    ]);
    for (const part of ['Pr0xy', 'w#rd', 'proxyuser', 'T0ken', 'Secret-456'])
      expect(lines.join('\n')).not.toContain(part);
  });

  it('ignores the spaces and line breaks around any value: a secret read from a file keeps its last newline', () => {
    // `kubectl create secret --from-file`, `echo key > file`: the value ends with "\n". Kept, an OPENAI_API_KEY made
    // every call fail ("invalid authorization header", retried, 502) and INCIDENTS_WEBHOOK_SECRET refused every alert
    // (a header never carries it), while the start and readiness said all was well; a HOST or DD_AGENT_HOST with a
    // space could not be resolved, and a DATA_DIR with one was another folder.
    const config = loadConfig({
      envFile: false,
      env: {
        LLM_PROVIDER: ' openai\n',
        OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1\n',
        OPENAI_API_KEY: 'sk-test-0123456789\n',
        INCIDENTS_WEBHOOK_SECRET: '0123456789abcdef0123\r\n',
        DD_API_KEY: ' dd-api-key-0123 ',
        DD_APP_KEY: 'dd-app-key-0123\n',
        HOST: ' 0.0.0.0 ',
        DD_AGENT_HOST: '127.0.0.1\t',
        DATA_DIR: `${tmpdir()}\n`,
        DD_SERVICE: 'llm-api ',
      },
    });
    expect(config.llm.provider).toBe('openai');
    expect(config.llm.openai.baseUrl).toBe('http://127.0.0.1:11434/v1');
    expect(config.llm.openai.apiKey?.reveal()).toBe('sk-test-0123456789');
    expect(config.incidents.webhookSecret?.reveal()).toBe('0123456789abcdef0123');
    expect(config.datadog.apiKey?.reveal()).toBe('dd-api-key-0123');
    expect(config.datadog.appKey?.reveal()).toBe('dd-app-key-0123');
    expect(config.http.host).toBe('0.0.0.0');
    expect(config.statsd.host).toBe('127.0.0.1');
    expect(config.ledger.dataDir).toBe(tmpdir());
    expect(config.service.name).toBe('llm-api');
  });

  it('refuses a key an HTTP header cannot carry (a line break inside, a non-ASCII character), never quoting it', () => {
    const lines = problems({
      LLM_PROVIDER: 'gemini',
      GEMINI_API_KEY: 'AIzaSy-first\nAIzaSy-second',
      OPENAI_API_KEY: 'sk-test-0123456789\u2019',
      DD_API_KEY: 'dd-api key-0123',
      INCIDENTS_WEBHOOK_SECRET: 'line one of it\nline two',
    });
    expect(lines).toEqual([
      'DD_API_KEY: must be printable ASCII without spaces or line breaks: it is sent in an HTTP header (got [redacted])',
      'INCIDENTS_WEBHOOK_SECRET: must be printable ASCII without line breaks: the monitor sends it in the X-Webhook-Secret header (got [redacted])',
      'GEMINI_API_KEY: must be printable ASCII without spaces or line breaks: it is sent in an HTTP header (got [redacted])',
      'OPENAI_API_KEY: must be printable ASCII without spaces or line breaks: it is sent in an HTTP header (got [redacted])',
    ]);
    for (const part of ['AIzaSy', 'sk-test', 'dd-api', 'line one']) expect(lines.join('\n')).not.toContain(part);
    // A shared secret may be a passphrase: spaces inside are fine.
    expect(
      loadConfig({
        envFile: false,
        env: { INCIDENTS_WEBHOOK_SECRET: 'correct horse battery staple' },
      }).incidents.webhookSecret?.reveal(),
    ).toBe('correct horse battery staple');
  });

  it('says in words what a pattern wants, never the regular expression; a URL in a host variable is refused', () => {
    expect(
      problems({
        DD_SERVICE: 'my service',
        DD_AGENT_HOST: 'http://127.0.0.1:8125',
        DD_TRACE_AGENT_URL: 'unix://var/run/datadog/apm.socket',
        DD_SITE: 'https://datadoghq.eu',
        LLM_MODEL: 'gemini 2.5',
        OPENAI_BASE_URL: 'localhost:11434',
        GOOGLE_CLOUD_LOCATION: 'US-CENTRAL1',
      }),
    ).toEqual([
      'DD_SERVICE: must be letters, digits and _ . - / only, starting with a letter or a digit (a Datadog tag value) (got "my service")',
      'DD_AGENT_HOST: must be a host name or an IP address (no scheme, no port: see DD_DOGSTATSD_PORT) (got "http://127.0.0.1:8125")',
      'DD_TRACE_AGENT_URL: must be an http:// or https:// URL, or unix:// and the socket\'s absolute path (unix:///var/run/datadog/apm.socket) (got "unix://var/run/datadog/apm.socket")',
      'DD_SITE: must be a Datadog site such as datadoghq.eu or us5.datadoghq.com (no scheme) (got "https://datadoghq.eu")',
      'LLM_MODEL: must be a model id: letters, digits and _ . - : / @ only, no spaces (got "gemini 2.5")',
      'GOOGLE_CLOUD_LOCATION: must be a Google Cloud location such as us-central1 or global (lower case) (got "US-CENTRAL1")',
      'OPENAI_BASE_URL: must be an http:// or https:// URL (got "localhost:11434")',
    ]);
    // Host names and IP addresses (v4, v6) are taken.
    for (const host of ['datadog-agent.monitoring.svc.cluster.local', '10.0.0.7', '::1', 'fd00::7'])
      expect(loadConfig({ envFile: false, env: { DD_AGENT_HOST: host } }).statsd.host).toBe(host);
  });

  it("takes the agent's unix sockets as Datadog's admission controller injects them, and DD_DOGSTATSD_URL over host and port", () => {
    // Refused before: a pod with the socket mode of the admission controller never started.
    const socket = loadConfig({
      envFile: false,
      env: {
        DD_TRACE_AGENT_URL: 'unix:///var/run/datadog/apm.socket',
        DD_DOGSTATSD_URL: 'unix:///var/run/datadog/dsd.socket',
        DD_AGENT_HOST: '10.0.0.7',
      },
    });
    expect(socket.tracing.agentUrl).toBe('unix:///var/run/datadog/apm.socket');
    expect(socket.statsd.socketPath).toBe('/var/run/datadog/dsd.socket');
    const udp = loadConfig({
      envFile: false,
      env: { DD_DOGSTATSD_URL: 'udp://[fd00::7]:8200', DD_AGENT_HOST: '10.0.0.7' },
    });
    expect(udp.statsd).toMatchObject({ host: 'fd00::7', port: 8200 });
    expect(udp.statsd.socketPath).toBeUndefined();
    expect(loadConfig({ envFile: false, env: {} }).statsd).toMatchObject({ host: '127.0.0.1', port: 8125 });
    expect(
      problems({
        DD_DOGSTATSD_URL: 'udp://127.0.0.1',
        DD_TRACE_AGENT_URL: 'unix:///',
      }),
    ).toEqual([
      'DD_DOGSTATSD_URL: must be udp://host:port, or unix:// and the socket\'s absolute path (unix:///var/run/datadog/dsd.socket) (got "udp://127.0.0.1")',
      'DD_TRACE_AGENT_URL: must be an http:// or https:// URL, or unix:// and the socket\'s absolute path (unix:///var/run/datadog/apm.socket) (got "unix:///")',
    ]);
    expect(problems({ DD_DOGSTATSD_URL: 'udp://127.0.0.1:70000' })).toEqual([
      'DD_DOGSTATSD_URL: the port must be 1 to 65535 (got "udp://127.0.0.1:70000")',
    ]);
    // The agent reads 8 KiB per datagram on its socket: a larger packet would be cut.
    expect(problems({ DD_DOGSTATSD_URL: 'unix:///run/dsd.socket', STATSD_MAX_BUFFER_BYTES: '16384' })).toEqual([
      'STATSD_MAX_BUFFER_BYTES: must be at most 8192 with a unix socket in DD_DOGSTATSD_URL: the agent reads 8 KiB per datagram (got "16384")',
    ]);
  });

  it('refuses a provider base URL with a user or a password in it, which no adapter sends, never quoting it', () => {
    // Before, the URL was taken and the credentials dropped without a word: every call a 401 from the gateway.
    const lines = problems({
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: 'http://bob:S3cret-Gateway-Key@127.0.0.1:8080/v1',
      LLM_BASE_URL: 'https://token-Only-Key@127.0.0.1:8443/v1',
    });
    expect(lines).toEqual([
      'LLM_BASE_URL: has a user or a password in it (user:password@), which is never sent: put the key in OPENAI_API_KEY (or GEMINI_API_KEY), sent as a bearer token (got [redacted])',
      'OPENAI_BASE_URL: has a user or a password in it (user:password@), which is never sent: put the key in OPENAI_API_KEY (or GEMINI_API_KEY), sent as a bearer token (got [redacted])',
    ]);
    expect(lines.join('\n')).not.toMatch(/S3cret|token-Only|bob/);
    expect(
      loadConfig({
        envFile: false,
        env: { LLM_PROVIDER: 'openai', OPENAI_BASE_URL: 'http://127.0.0.1:8080/v1?api-version=1' },
      }).llm.openai.baseUrl,
    ).toBe('http://127.0.0.1:8080/v1?api-version=1');
  });

  it('refuses a DATABASE_URL whose password would be read as its host or database, never quoting any of it', () => {
    // An @, /, ? or # left unencoded in the password: the URL parser ends the host there, and the start's "cannot
    // connect to PostgreSQL at <host>, database <db>" printed pieces of the password as the host and the database.
    const leaks = [
      'postgres://app:p@ss#w0rd-S3cr3t@127.0.0.1:5432/lrcp',
      'postgres://app:p@ss-S3cr3t/x@127.0.0.1:5432/lrcp',
    ];
    for (const url of leaks) {
      const lines = problems({ DATABASE_URL: url });
      expect(lines).toEqual([
        'DATABASE_URL: has an @ or a # after its host: an @, /, ?, # or space in the password (or the user) must be percent-encoded (%40, %2F, %3F, %23, %20) (got [redacted])',
      ]);
      for (const part of ['S3cr3t', 'w0rd']) expect(lines.join('\n')).not.toContain(part);
    }
    // Encoded, a user with an @ (user@server), a socket directory in the query: taken.
    for (const url of [
      'postgres://app:p%40ss%23w0rd@127.0.0.1:5432/lrcp',
      'postgres://app@server:pw@127.0.0.1:5432/lrcp?sslmode=verify-full',
      'postgresql:///lrcp?host=/var/run/postgresql',
    ])
      expect(loadConfig({ envFile: false, env: { DATABASE_URL: url } }).ledger.databaseUrl?.reveal()).toBe(url);
  });

  it('lists every bad variable, one line each', () => {
    expect(problems({ PORT: 'abc', LOG_TRUNCATE_CHARS: '5', LLM_PROVIDER: 'gemini' })).toEqual([
      'PORT: must be an integer between 0 and 65535 (got "abc")',
      'LOG_TRUNCATE_CHARS: must be an integer between 16 and 100000 (got "5")',
      'GEMINI_API_KEY: required when LLM_PROVIDER=gemini',
    ]);
  });

  it('stops on two settings that contradict each other, naming the one that was set and its partner', () => {
    expect(problems({ LLM_RETRY_BASE_MS: '10000', LLM_RETRY_MAX_MS: '500' })).toEqual([
      'LLM_RETRY_BASE_MS: must be at most LLM_RETRY_MAX_MS (500): the first retry wait cannot exceed the longest (got "10000")',
    ]);
    expect(problems({ LLM_RATE_LIMIT_MAX_HOLD_MS: '500' })).toEqual([
      'LLM_RATE_LIMIT_MAX_HOLD_MS: must be at least LLM_RATE_LIMIT_HOLD_MS (1000, its default): a hold cannot exceed its ceiling (got "500")',
    ]);
    expect(problems({ INCIDENTS_RETRY_BASE_MS: '500000' })).toEqual([
      'INCIDENTS_RETRY_BASE_MS: must be at most INCIDENTS_RETRY_MAX_MS (300000, its default): the first delivery retry wait cannot exceed the longest (got "500000")',
    ]);
    // A 5 s window ending on a 10 s step reads only every other 5 s of calls.
    expect(problems({ HEALTH_WINDOW_SHORT_MS: '5000' })).toEqual([
      'HEALTH_WINDOW_SHORT_MS: must be at least HEALTH_WINDOW_STEP_MS (10000, its default): windows ending on a longer step would skip calls (got "5000")',
    ]);
    expect(problems({ HEALTH_WINDOW_SHORT_MS: '7200000', HEALTH_WINDOW_LONG_MS: '3600000' })).toEqual([
      'HEALTH_WINDOW_SHORT_MS: must be at most HEALTH_WINDOW_LONG_MS (3600000): the 5m window cannot be longer than the 1h one (got "7200000")',
    ]);
    // Equal is no contradiction; a pair with an invalid member gets that member's own reason only.
    expect(() =>
      loadConfig({ envFile: false, env: { LLM_RETRY_BASE_MS: '500', LLM_RETRY_MAX_MS: '500' } }),
    ).not.toThrow();
    expect(problems({ LLM_RETRY_BASE_MS: '10000', LLM_RETRY_MAX_MS: 'x' })).toEqual([
      'LLM_RETRY_MAX_MS: must be an integer between 1 and 300000 (got "x")',
    ]);
  });

  it('stops on a health weight given twice instead of keeping the last', () => {
    expect(problems({ HEALTH_WEIGHTS: 'performance=1,cost=0.5,performance=0' })).toEqual([
      'HEALTH_WEIGHTS: performance is given twice (got "performance=1,cost=0.5,performance=0")',
    ]);
  });
});
