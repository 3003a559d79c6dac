import { describe, expect, it } from "vitest";
import { playTones } from "@/tones";

/** An audio context that records what was played: each oscillator's wave, frequency, start, stop and peak. */
function fakeContext(state: AudioContextState) {
  const played: Array<{ type: string; frequency: number; start: number; stop: number }> = [];
  const ramps: number[] = [];
  const context = {
    state,
    currentTime: 10,
    destination: {},
    createOscillator: () => {
      const oscillator = {
        type: "",
        frequency: { value: 0 },
        connect: (node: unknown) => node,
        start: (at: number) => played.push({ type: oscillator.type, frequency: oscillator.frequency.value, start: at, stop: 0 }),
        stop: (at: number) => (played.at(-1)!.stop = at),
      };
      return oscillator;
    },
    createGain: () => ({
      gain: { setValueAtTime: () => undefined, exponentialRampToValueAtTime: (value: number) => ramps.push(value) },
      connect: (node: unknown) => node,
    }),
  };
  return { context: context as unknown as AudioContext, played, ramps };
}

describe("playTones", () => {
  it("plays each tone at its offset for its length, in the wave and up to the volume asked", () => {
    const { context, played, ramps } = fakeContext("running");
    playTones(context, [[880, 0, 0.4], [660, 0.5, 0.2]], { wave: "sine", volume: 0.3, rampIn: 0.03 });
    expect(played.map(({ type, frequency }) => [type, frequency])).toEqual([["sine", 880], ["sine", 660]]);
    expect(played[0]!.start).toBeCloseTo(10.02);
    expect(played[0]!.stop).toBeCloseTo(10.44);
    expect(played[1]!.start).toBeCloseTo(10.52);
    expect(played[1]!.stop).toBeCloseTo(10.74);
    expect(ramps).toEqual([0.3, 0.0001, 0.3, 0.0001]);
  });

  it("plays nothing while the browser holds the sound back", () => {
    const { context, played } = fakeContext("suspended");
    playTones(context, [[880, 0, 0.4]], { wave: "square", volume: 0.25, rampIn: 0.02 });
    expect(played).toEqual([]);
  });
});
