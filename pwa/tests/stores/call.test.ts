import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// openapi-fetch takes the global fetch when the client module loads, so stub it before any import.
const fetchMock = vi.hoisted(() => {
  const mock = vi.fn<(input: Request | string, init?: RequestInit) => Promise<Response>>();
  globalThis.fetch = mock as unknown as typeof fetch;
  return mock;
});

const { setLocale } = await import("@/i18n");
const { CONNECT_TIMEOUT_MS, useCall } = await import("@/stores/call");

setLocale("zh-CN", { persist: false });

class FakeTrack {
  readyState: "live" | "ended" = "live";
  enabled = true;
  constructor(readonly kind: "audio" | "video") {}
  stop(): void {
    this.readyState = "ended";
  }
}

class FakeStream {
  private tracks: FakeTrack[];
  constructor(tracks: FakeTrack[] = []) {
    this.tracks = [...tracks];
  }
  getTracks(): FakeTrack[] {
    return [...this.tracks];
  }
  getAudioTracks(): FakeTrack[] {
    return this.tracks.filter((t) => t.kind === "audio");
  }
  addTrack(track: FakeTrack): void {
    this.tracks.push(track);
  }
}

/** The browser's peer connection, driven by the test. */
class FakePeer extends EventTarget {
  static made: FakePeer[] = [];
  transceivers: Array<{ what: string; direction: string }> = [];
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  iceGatheringState = "new";
  connectionState = "new";
  closed = false;

  constructor() {
    super();
    FakePeer.made.push(this);
  }

  static get last(): FakePeer {
    const pc = FakePeer.made.at(-1);
    if (!pc) throw new Error("no peer");
    return pc;
  }

  addTransceiver(what: string | FakeTrack, init: { direction: string }): void {
    this.transceivers.push({ what: typeof what === "string" ? what : `track:${what.kind}`, direction: init.direction });
  }
  async createOffer() {
    return { type: "offer", sdp: "v=0 offer" };
  }
  async setLocalDescription(description: { type: string; sdp: string }) {
    this.localDescription = description;
    this.iceGatheringState = "complete";
  }
  async setRemoteDescription(description: { type: string; sdp: string }) {
    this.remoteDescription = description;
  }
  close(): void {
    this.closed = true;
  }
  become(state: string): void {
    this.connectionState = state;
    this.dispatchEvent(new Event("connectionstatechange"));
  }
}

const CALL = {
  id: "0b7e1d1e-6a57-4b8e-9d43-5d1e9d1c0a11",
  station: "北门 门口机",
  doorName: "北门 人行通道",
  target: "household" as const,
  reason: "visitor",
  householdLabel: "1栋1单元0101",
  startedAt: "2026-11-25T10:00:00+00:00",
};

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

type Handler = (request: Request) => Response | Promise<Response>;
let routes: Record<string, Handler> = {};
let microphone: FakeStream | null = null;

/** The requests made so far, as "METHOD /path". */
function asked(): string[] {
  return fetchMock.mock.calls.map(([input]) => {
    const request = input as Request;
    return `${request.method} ${new URL(request.url).pathname}`;
  });
}

beforeEach(() => {
  setActivePinia(createPinia());
  FakePeer.made = [];
  document.cookie = "csrftoken=test-token";
  microphone = new FakeStream([new FakeTrack("audio")]);
  vi.stubGlobal("RTCPeerConnection", FakePeer);
  vi.stubGlobal("MediaStream", FakeStream);
  Object.defineProperty(navigator, "mediaDevices", {
    configurable: true,
    value: {
      getUserMedia: vi.fn(async () => {
        if (!microphone) throw new DOMException("denied", "NotAllowedError");
        return microphone;
      }),
    },
  });
  routes = {
    "GET /api/v1/media/ice-servers": () => json(200, { ice_servers: [{ urls: "stun:stun.example.org" }] }),
    [`POST /api/v1/calls/${CALL.id}/answer`]: () =>
      json(200, { sdp: "v=0 answer", call_id: CALL.id, max_duration_s: 60, ice_servers: [] }),
    [`POST /api/v1/calls/${CALL.id}/hangup`]: () => json(200, {}),
    [`POST /api/v1/calls/${CALL.id}/decline`]: () => json(200, {}),
    [`POST /api/v1/calls/${CALL.id}/unlock`]: () =>
      json(200, { result: "granted", reason: "", record_id: "r1", door_id: "d1", door_name: "北门 人行通道" }),
  };
  fetchMock.mockReset();
  fetchMock.mockImplementation(async (input) => {
    const request = input as Request;
    const handler = routes[`${request.method} ${new URL(request.url).pathname}`];
    return handler ? handler(request) : json(404, { code: "not_found", message: "no" });
  });
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

/** Ring, answer, and let the peer connect. */
async function liveCall() {
  const store = useCall();
  store.ring(CALL);
  await store.answer();
  FakePeer.last.become("connected");
  return store;
}

describe("answering", () => {
  it("sends the microphone, offers through the platform and goes live when media flows", async () => {
    const store = useCall();
    expect(store.ring(CALL)).toBe(true);
    expect(store.phase).toBe("ringing");
    const answering = store.answer();
    expect(store.phase).toBe("connecting");
    expect(store.answeredAt).not.toBeNull();
    await answering;
    expect(asked()).toEqual(["GET /api/v1/media/ice-servers", `POST /api/v1/calls/${CALL.id}/answer`]);
    const body = await (fetchMock.mock.calls[1]![0] as Request).clone().json();
    expect(body).toEqual({ sdp: "v=0 offer" });
    expect(FakePeer.last.transceivers).toEqual([
      { what: "video", direction: "recvonly" },
      { what: "track:audio", direction: "sendrecv" },
    ]);
    expect(FakePeer.last.remoteDescription?.sdp).toBe("v=0 answer");
    expect(store.microphone).toBe(true);
    expect(store.limitS).toBe(60);
    FakePeer.last.become("connected");
    expect(store.phase).toBe("live");
    expect(store.liveSince).not.toBeNull();
  });

  it("listens only when the microphone is refused", async () => {
    microphone = null;
    const store = await liveCall();
    expect(store.microphone).toBe(false);
    expect(FakePeer.last.transceivers[1]).toEqual({ what: "audio", direction: "recvonly" });
  });

  it("ends as answered elsewhere when another member was first", async () => {
    routes[`POST /api/v1/calls/${CALL.id}/answer`] = () =>
      json(409, { code: "call_taken", message: "The call has been answered by someone else." });
    const store = useCall();
    store.ring(CALL);
    await store.answer();
    expect(store.phase).toBe("ended");
    expect(store.end).toBe("answered_elsewhere");
    expect(FakePeer.last.closed).toBe(true);
    expect(microphone?.getTracks()[0]?.readyState).toBe("ended");
  });

  it("gives up and hangs up when the connection never comes", async () => {
    vi.useFakeTimers();
    const store = useCall();
    store.ring(CALL);
    await store.answer();
    await vi.advanceTimersByTimeAsync(CONNECT_TIMEOUT_MS);
    expect(store.phase).toBe("ended");
    expect(store.end).toBe("network");
    expect(asked()).toContain(`POST /api/v1/calls/${CALL.id}/hangup`);
  });
});

describe("while ringing", () => {
  it("stops when another member answers, and cannot be answered any more", async () => {
    const store = useCall();
    store.ring(CALL);
    store.heard({ id: CALL.id, outcome: "answered_elsewhere", by: "李四" });
    expect(store.phase).toBe("ended");
    expect(store.end).toBe("answered_elsewhere");
    expect(store.endBy).toBe("李四");
    await store.answer();
    expect(asked()).toEqual([]);
  });

  it("ignores the end of some other call", () => {
    const store = useCall();
    store.ring(CALL);
    store.heard({ id: "another", outcome: "unanswered", by: null });
    expect(store.phase).toBe("ringing");
  });

  it("declines for the household", async () => {
    const store = useCall();
    store.ring(CALL);
    await store.decline();
    expect(store.end).toBe("declined");
    expect(asked()).toEqual([`POST /api/v1/calls/${CALL.id}/decline`]);
  });

  it("does not ring over a call in progress", async () => {
    const store = await liveCall();
    expect(store.ring({ ...CALL, id: "second" })).toBe(false);
    expect(store.current?.id).toBe(CALL.id);
    expect(store.phase).toBe("live");
  });
});

describe("in the call", () => {
  it("hangs up with the platform first, then closes the peer and the microphone", async () => {
    const store = await liveCall();
    const pc = FakePeer.last;
    let closedWhenAsked: boolean | null = null;
    routes[`POST /api/v1/calls/${CALL.id}/hangup`] = () => {
      closedWhenAsked = pc.closed;
      return json(200, {});
    };
    const hangingUp = store.hangup();
    expect(store.phase).toBe("ended");
    expect(store.end).toBe("hangup");
    await hangingUp;
    expect(closedWhenAsked).toBe(false);
    expect(pc.closed).toBe(true);
    expect(microphone?.getTracks()[0]?.readyState).toBe("ended");
  });

  it("ends on a network failure and on the platform's word", async () => {
    let store = await liveCall();
    FakePeer.last.become("failed");
    expect(store.end).toBe("network");

    setActivePinia(createPinia());
    store = await liveCall();
    store.heard({ id: CALL.id, outcome: "hangup", by: null });
    expect(store.end).toBe("remote_hangup");
    expect(FakePeer.last.closed).toBe(true);
  });

  it("ends itself a little after the limit when no word came", async () => {
    vi.useFakeTimers();
    const store = await liveCall();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(store.phase).toBe("live");
    await vi.advanceTimersByTimeAsync(3_000);
    expect(store.end).toBe("limit");
  });

  it("opens the door and says which", async () => {
    const store = await liveCall();
    await store.openDoor();
    expect(store.unlock).toBe("granted");
    expect(store.unlockMessage).toBe("北门 人行通道已打开");
  });

  it("says why the door did not open", async () => {
    routes[`POST /api/v1/calls/${CALL.id}/unlock`] = () => json(409, { code: "call_not_live", message: "not live" });
    const store = await liveCall();
    await store.openDoor();
    expect(store.unlock).toBe("failed");
    expect(store.unlockMessage).toBe("通话已结束，无法操作");
  });

  it("mutes the microphone and the speaker", async () => {
    const store = await liveCall();
    store.toggleMute();
    expect(microphone?.getTracks()[0]?.enabled).toBe(false);
    store.toggleMute();
    expect(microphone?.getTracks()[0]?.enabled).toBe(true);
    store.toggleSpeaker();
    expect(store.speaker).toBe(false);
  });

  it("forgets an ended call when its screen is left", async () => {
    const store = await liveCall();
    store.dismiss();
    expect(store.phase).toBe("live"); // not while it is on
    await store.hangup();
    store.dismiss();
    expect(store.current).toBeNull();
    expect(store.phase).toBeNull();
  });
});

describe("forget", () => {
  it("drops a ringing call and closes a live one's peer without a word to the platform", async () => {
    let store = useCall();
    store.ring(CALL);
    store.forget();
    expect(store.current).toBeNull();
    expect(store.phase).toBeNull();

    setActivePinia(createPinia());
    store = await liveCall();
    fetchMock.mockClear();
    store.forget();
    expect(FakePeer.last.closed).toBe(true);
    expect(asked()).toEqual([]);
  });
});
