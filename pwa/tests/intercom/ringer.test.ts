import { describe, expect, it, vi } from "vitest";
import { RING_PERIOD_MS, RING_TONES, RING_VIBRATION, Ringer } from "@/views/intercom/ringer";

function fakeContext(state: AudioContextState = "running") {
  const oscillators: Array<{ frequency: { value: number } }> = [];
  const param = () => ({ setValueAtTime: vi.fn(), exponentialRampToValueAtTime: vi.fn() });
  const context = {
    state,
    currentTime: 0,
    destination: {},
    resume: vi.fn().mockResolvedValue(undefined),
    close: vi.fn().mockResolvedValue(undefined),
    createOscillator: () => {
      const oscillator = { type: "", frequency: { value: 0 }, connect: (node: unknown) => node, start: vi.fn(), stop: vi.fn() };
      oscillators.push(oscillator);
      return oscillator;
    },
    createGain: () => ({ gain: param(), connect: (node: unknown) => node }),
  };
  return { context: context as unknown as AudioContext, oscillators };
}

describe("Ringer", () => {
  it("rings and buzzes every period until stopped, then closes its sound", () => {
    vi.useFakeTimers();
    const { context, oscillators } = fakeContext();
    const vibrate = vi.fn().mockReturnValue(true);
    const ringer = new Ringer({ createContext: () => context, vibrate });
    ringer.start();
    ringer.start(); // twice is once
    expect(oscillators).toHaveLength(RING_TONES.length);
    vi.advanceTimersByTime(RING_PERIOD_MS * 2);
    expect(oscillators).toHaveLength(RING_TONES.length * 3);
    expect(vibrate).toHaveBeenCalledWith(RING_VIBRATION);
    ringer.stop();
    expect(ringer.ringing).toBe(false);
    expect(vibrate).toHaveBeenLastCalledWith(0);
    expect(context.close).toHaveBeenCalled();
    vi.advanceTimersByTime(RING_PERIOD_MS * 3);
    expect(oscillators).toHaveLength(RING_TONES.length * 3);
    vi.useRealTimers();
  });

  it("only buzzes while the browser holds the sound back (no tap yet)", () => {
    const { context, oscillators } = fakeContext("suspended");
    const vibrate = vi.fn().mockReturnValue(true);
    const ringer = new Ringer({ createContext: () => context, vibrate });
    ringer.start();
    expect(context.resume).toHaveBeenCalled();
    expect(oscillators).toHaveLength(0);
    expect(vibrate).toHaveBeenCalledWith(RING_VIBRATION);
    ringer.stop();
  });

  it("keeps going without sound or vibration at all", () => {
    const ringer = new Ringer({
      createContext: () => null,
      vibrate: () => {
        throw new Error("no vibration");
      },
    });
    expect(() => ringer.start()).not.toThrow();
    expect(ringer.ringing).toBe(true);
    ringer.stop();
  });
});
