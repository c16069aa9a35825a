import { killLeftoverServices, ServiceProcess } from './support/service-process';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * The test support itself: a service a test file leaves running is killed when the file ends (a root-level afterAll
 * of test/support/service-process.ts calls killLeftoverServices). It used to run on until jest exited, in band every
 * suite after it, taking CPU from their timing checks.
 */
describe('ServiceProcess: services a test file leaves running', () => {
  it('are killed by killLeftoverServices, and the ones stopped are not named', async () => {
    const stopped = await new ServiceProcess({ DD_TRACE_ENABLED: 'false' }).start();
    const left = await new ServiceProcess({ DD_TRACE_ENABLED: 'false' }).start();
    expect(await stopped.stop()).toBe(143);
    const pid = left.pid!;
    expect(alive(pid)).toBe(true);
    expect(await killLeftoverServices()).toEqual([pid]);
    expect(alive(pid)).toBe(false);
    expect(await killLeftoverServices()).toEqual([]);
  });
});
