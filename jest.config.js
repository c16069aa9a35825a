/** Jest 30 + ts-jest (transpile only; `npm run typecheck` type-checks). Run with --experimental-vm-modules
 * so CommonJS test files can require the ESM-only Nest 12 packages (Node >= 24.9). */
const moduleNameMapper = {
  '^@app/(config|common|telemetry|datadog|ledger|ml|forecast|llm|health-score|insights|incidents|security|control-room)$':
    '<rootDir>/libs/$1/src',
};
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }] };
const common = {
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  transform,
  setupFiles: ['<rootDir>/test/support/loopback-only.ts'],
};

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], slowTestThreshold: 30 },
  ],
  // A test or hook that starts the built service waits for its boot: 12-18 s on a loaded 2-core runner (about 2 s of
  // CPU), so a 30 s bound failed suites that were only slow. A hang still fails, a minute later.
  testTimeout: 60000,
  // The run's verdict is its results. A suite whose hook failed can leave a loopback server or receiver open (its
  // afterAll never closed it), and on a loaded run Jest then waited on it for over 20 minutes after printing the
  // summary ("Jest did not exit one second after the test run has completed"), so a CI job would time out instead
  // of failing. Leaked handles of passing suites are hunted with --detectOpenHandles, not by hanging CI.
  forceExit: true,
};
