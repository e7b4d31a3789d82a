/** The sweep's folding gate: work admitted by its bytes up to a limit, a larger item alone, in arrival order. */
import { describe, expect, it } from 'vitest';
import { ByteGate } from '../../../src/util/byte-gate.js';

describe('ByteGate', () => {
  it('admits up to its limit, a larger item alone, and the waiting in arrival order as room is made', async () => {
    const gate = new ByteGate(100);
    const admitted: string[] = [];
    const enter = (name: string, bytes: number): Promise<() => void> =>
      gate.enter(bytes).then((release) => {
        admitted.push(name);
        return release;
      });
    const a = await enter('a', 60);
    const b = await enter('b', 40);
    const c = enter('c', 30);
    const large = enter('large', 500);
    const d = enter('d', 10);
    await Promise.resolve();
    expect(admitted).toEqual(['a', 'b']);
    a();
    a(); // a second release changes nothing
    const releaseC = await c;
    await Promise.resolve();
    // c fits beside b; the large one waits for the gate to empty, and d (which would fit) waits behind it.
    expect(admitted).toEqual(['a', 'b', 'c']);
    b();
    releaseC();
    const releaseLarge = await large;
    await Promise.resolve();
    expect(admitted).toEqual(['a', 'b', 'c', 'large']);
    releaseLarge();
    (await d)();
    expect(admitted).toEqual(['a', 'b', 'c', 'large', 'd']);
  });
});
