import { keyProblem } from './api';

describe('control room API key check', () => {
  it('takes printable ASCII keys', () => {
    expect(keyProblem('lrcp_live_AbC123-_.~')).toBeNull();
  });

  it('names the character a pasted key brought along that no key has, and where', () => {
    expect(keyProblem('lrcp_live_abc\u200b')).toMatch(/U\+200B, at character 14/);
    expect(keyProblem('\ufefflrcp_live_abc')).toMatch(/U\+FEFF, at character 1/);
    expect(keyProblem('lrcp\u00a0live')).toMatch(/U\+00A0, at character 5/);
    expect(keyProblem('lrcp_\u00e9')).toMatch(/U\+00E9/);
    expect(keyProblem('lrcp_\u{1F511}')).toMatch(/U\+1F511, at character 6/);
  });
});
