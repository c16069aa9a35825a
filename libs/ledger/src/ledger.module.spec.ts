import { formerLedgerNotice } from './ledger.module';

describe('runtime state under ./var (DATA_DIR)', () => {
  const files =
    (...present: string[]) =>
    (path: string) =>
      present.includes(path);

  it("says how to keep an earlier version's ledger under ./data, and moves nothing", () => {
    const notice = formerLedgerNotice('./var', files('data/ledger.sqlite'));
    expect(notice).toMatch(/data\/ledger\.sqlite/);
    expect(notice).toMatch(/mv data\/ledger\.sqlite\* \.\/var\//);
    expect(notice).toMatch(/DATA_DIR=\.\/data/);
  });

  it('is silent when the new folder has a ledger, when there is no old one, or when DATA_DIR points at ./data', () => {
    expect(formerLedgerNotice('./var', files('data/ledger.sqlite', 'var/ledger.sqlite'))).toBeUndefined();
    expect(formerLedgerNotice('./var', files())).toBeUndefined();
    expect(formerLedgerNotice('./data', files('data/ledger.sqlite'))).toBeUndefined();
  });
});
