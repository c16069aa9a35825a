import { testConfig } from '../../../test/support/app-config';
import { startupSummary } from './startup-summary';

describe('startupSummary', () => {
  it('says where PostgreSQL is without its password, and a real provider by the origin of its endpoint', () => {
    const summary = startupSummary(
      testConfig({
        DATABASE_URL: 'postgres://app:pa55-w0rd-startup@127.0.0.1:6543/ledger?sslmode=disable',
        LLM_PROVIDER: 'openai',
        OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
        OPENAI_API_KEY: 'sk-startup-openai-key-0001',
        ROUTER_MODE: 'learned',
        ROUTER_CANDIDATES: 'small,large',
      }),
      'http://127.0.0.1:3000',
    );
    expect(summary.state).toBe('PostgreSQL at 127.0.0.1:6543, database "ledger", user "app"');
    expect(summary.llm).toEqual({
      provider: 'openai',
      simulated: false,
      models: ['gemini-2.5-flash'],
      endpoint: 'http://127.0.0.1:11434',
    });
    expect(summary.router).toBe('learned: small, large');
    expect(summary.auth).toBe('disabled (AUTH_DISABLED=true)');
    expect(JSON.stringify(summary)).not.toMatch(/pa55-w0rd|sk-startup/);
  });

  it('says when callers get in with a development key, and when there is no budget', () => {
    const summary = startupSummary(testConfig({ AUTH_DISABLED: 'false' }), 'http://127.0.0.1:3000');
    expect(summary.auth).toBe('a development key generated at boot');
    expect(summary.budget).toBe('none');
  });
});
