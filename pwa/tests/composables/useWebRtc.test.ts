import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { effectScope } from "vue";
import {
  gatheringComplete,
  MediaPeer,
  openMicrophone,
  type PeerEnd,
  type PeerOptions,
  type PeerPhase,
  rtcIceServers,
  useWebRtc,
} from "@/composables/useWebRtc";

/** A track the test can watch being stopped. */
class FakeTrack {
  readyState: "live" | "ended" = "live";
  constructor(readonly kind: "audio" | "video") {}
  stop(): void {
    this.readyState = "ended";
  }
}

class FakeStream {
  private tracks: FakeTrack[];
  constructor(tracks: FakeTrack[] = []) {
    this.tracks = tracks;
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

/**
 * The browser's side of a peer connection, driven by the test: gathering completes on a microtask
 * after setLocalDescription (unless `slowGathering`), the connection state moves with `become()`.
 */
class FakePeer extends EventTarget {
  static made: FakePeer[] = [];
  static slowGathering = false;
  transceivers: Array<{ what: string; direction: string }> = [];
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  iceGatheringState: RTCIceGatheringState = "new";
  connectionState: RTCPeerConnectionState = "new";
  closed = false;

  constructor(readonly config: RTCConfiguration) {
    super();
    FakePeer.made.push(this);
  }

  static get last(): FakePeer {
    const pc = FakePeer.made.at(-1);
    if (!pc) throw new Error("no peer was made");
    return pc;
  }

  addTransceiver(what: string | FakeTrack, init: { direction: string }): void {
    this.transceivers.push({ what: typeof what === "string" ? what : `track:${what.kind}`, direction: init.direction });
  }

  async createOffer(): Promise<{ type: string; sdp: string }> {
    return { type: "offer", sdp: "v=0 offer" };
  }

  async setLocalDescription(description: { type: string; sdp: string }): Promise<void> {
    this.localDescription = { ...description };
    this.iceGatheringState = "gathering";
    if (FakePeer.slowGathering) return;
    queueMicrotask(() => {
      // Candidates end up in the local description by the time gathering completes.
      this.localDescription = { type: "offer", sdp: "v=0 offer a=candidate:1" };
      this.iceGatheringState = "complete";
      this.dispatchEvent(new Event("icegatheringstatechange"));
    });
  }

  async setRemoteDescription(description: { type: string; sdp: string }): Promise<void> {
    this.remoteDescription = description;
  }

  close(): void {
    this.closed = true;
    this.connectionState = "closed";
  }

  become(state: RTCPeerConnectionState): void {
    this.connectionState = state;
    this.dispatchEvent(new Event("connectionstatechange"));
  }

  receive(track: FakeTrack): void {
    const event = new Event("track") as Event & { track: FakeTrack };
    event.track = track;
    this.dispatchEvent(event);
  }
}

function options(overrides: Partial<PeerOptions> = {}): PeerOptions & { offers: string[] } {
  const offers: string[] = [];
  return {
    kind: "call",
    iceServers: [],
    signal: async (offer) => {
      offers.push(offer);
      return "v=0 answer";
    },
    createPeer: (config) => new FakePeer(config) as unknown as RTCPeerConnection,
    createStream: () => new FakeStream() as unknown as MediaStream,
    offers,
    ...overrides,
  };
}

beforeEach(() => {
  FakePeer.made = [];
  FakePeer.slowGathering = false;
});

afterEach(() => {
  vi.useRealTimers();
});

describe("rtcIceServers", () => {
  it("keeps credentials only where there are some", () => {
    expect(
      rtcIceServers([
        { urls: "stun:stun.example.org" },
        { urls: ["turn:turn.example.org"], username: "u", credential: "p" },
        { urls: "stun:other", username: null, credential: null },
      ]),
    ).toEqual([
      { urls: "stun:stun.example.org" },
      { urls: ["turn:turn.example.org"], username: "u", credential: "p" },
      { urls: "stun:other" },
    ]);
  });
});

describe("MediaPeer.start", () => {
  it("offers video in and sound both ways for a call, sending the microphone", async () => {
    const microphone = new FakeStream([new FakeTrack("audio")]) as unknown as MediaStream;
    const opts = options({ microphone });
    await new MediaPeer(opts).start();
    expect(FakePeer.last.transceivers).toEqual([
      { what: "video", direction: "recvonly" },
      { what: "track:audio", direction: "sendrecv" },
    ]);
  });

  it("listens only when there is no microphone", async () => {
    await new MediaPeer(options({ microphone: null })).start();
    expect(FakePeer.last.transceivers).toEqual([
      { what: "video", direction: "recvonly" },
      { what: "audio", direction: "recvonly" },
    ]);
  });

  it("asks only for video in a live view", async () => {
    await new MediaPeer(options({ kind: "live" })).start();
    expect(FakePeer.last.transceivers).toEqual([{ what: "video", direction: "recvonly" }]);
  });

  it("sends the offer only once gathering is complete, with its candidates, then applies the answer", async () => {
    const opts = options();
    const phases: PeerPhase[] = [];
    const peer = new MediaPeer({ ...opts, onPhase: (p) => phases.push(p) });
    await peer.start();
    expect(opts.offers).toEqual(["v=0 offer a=candidate:1"]);
    expect(FakePeer.last.remoteDescription).toEqual({ type: "answer", sdp: "v=0 answer" });
    expect(phases).toEqual(["offering", "connecting"]);
    FakePeer.last.become("connected");
    expect(peer.phase).toBe("connected");
  });

  it("passes the ICE servers to the connection", async () => {
    await new MediaPeer(options({ iceServers: [{ urls: "stun:stun.example.org" }] })).start();
    expect(FakePeer.last.config.iceServers).toEqual([{ urls: "stun:stun.example.org" }]);
  });

  it("sends what it has when gathering takes too long", async () => {
    vi.useFakeTimers();
    FakePeer.slowGathering = true;
    const opts = options({ gatherTimeoutMs: 3_000 });
    const started = new MediaPeer(opts).start();
    await vi.advanceTimersByTimeAsync(2_999);
    expect(opts.offers).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await started;
    expect(opts.offers).toEqual(["v=0 offer"]);
  });

  it("ends as refused, closed and told once, when the platform does not answer", async () => {
    const ends: PeerEnd[] = [];
    const microphone = new FakeStream([new FakeTrack("audio")]);
    const peer = new MediaPeer(
      options({
        microphone: microphone as unknown as MediaStream,
        signal: () => Promise.reject(new Error("409")),
        onEnd: (reason) => ends.push(reason),
      }),
    );
    await expect(peer.start()).rejects.toThrow("409");
    expect(ends).toEqual(["refused"]);
    expect(FakePeer.last.closed).toBe(true);
    expect(microphone.getTracks()[0]?.readyState).toBe("ended");
    expect(peer.phase).toBe("ended");
  });

  it("does not apply an answer that comes back after the peer was closed", async () => {
    let answer: (sdp: string) => void = () => undefined;
    const peer = new MediaPeer(options({ signal: () => new Promise((resolve) => (answer = resolve)) }));
    const started = peer.start();
    await vi.waitFor(() => expect(FakePeer.last.iceGatheringState).toBe("complete"));
    await Promise.resolve();
    peer.close();
    answer("v=0 late");
    await started;
    expect(FakePeer.last.remoteDescription).toBeNull();
  });
});

describe("MediaPeer ending", () => {
  it("collects the received tracks into one stream", async () => {
    const peer = new MediaPeer(options());
    await peer.start();
    const video = new FakeTrack("video");
    FakePeer.last.receive(video);
    FakePeer.last.receive(video);
    FakePeer.last.receive(new FakeTrack("audio"));
    expect(peer.remote.getTracks().map((t) => t.kind)).toEqual(["video", "audio"]);
  });

  it("ends as a network failure when ICE or DTLS fails, stopping every track", async () => {
    const ends: PeerEnd[] = [];
    const microphone = new FakeStream([new FakeTrack("audio")]);
    const peer = new MediaPeer(
      options({ microphone: microphone as unknown as MediaStream, onEnd: (reason) => ends.push(reason) }),
    );
    await peer.start();
    const video = new FakeTrack("video");
    FakePeer.last.receive(video);
    FakePeer.last.become("connected");
    FakePeer.last.become("failed");
    expect(ends).toEqual(["network"]);
    expect(video.readyState).toBe("ended");
    expect(microphone.getTracks()[0]?.readyState).toBe("ended");
    expect(FakePeer.last.closed).toBe(true);
  });

  it("waits out a short disconnection, and ends a lasting one", async () => {
    vi.useFakeTimers();
    const ends: PeerEnd[] = [];
    const peer = new MediaPeer(options({ disconnectGraceMs: 4_000, onEnd: (reason) => ends.push(reason) }));
    await peer.start();
    FakePeer.last.become("connected");
    FakePeer.last.become("disconnected");
    await vi.advanceTimersByTimeAsync(3_000);
    FakePeer.last.become("connected");
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ends).toEqual([]);
    FakePeer.last.become("disconnected");
    await vi.advanceTimersByTimeAsync(4_000);
    expect(ends).toEqual(["network"]);
    expect(peer.phase).toBe("ended");
  });

  it("closes once: a second close and later state changes say nothing more", async () => {
    const ends: PeerEnd[] = [];
    const peer = new MediaPeer(options({ onEnd: (reason) => ends.push(reason) }));
    await peer.start();
    const pc = FakePeer.last;
    peer.close();
    peer.close();
    pc.become("failed");
    expect(ends).toEqual(["closed"]);
    expect(pc.closed).toBe(true);
    expect(peer.connection).toBeNull();
  });
});

describe("gatheringComplete", () => {
  it("also ends on the null candidate", async () => {
    const pc = new FakePeer({});
    pc.iceGatheringState = "gathering";
    const done = gatheringComplete(pc as unknown as RTCPeerConnection, 10_000);
    const event = new Event("icecandidate") as Event & { candidate: null };
    event.candidate = null;
    pc.dispatchEvent(event);
    await expect(done).resolves.toBeUndefined();
  });
});

describe("openMicrophone", () => {
  it("asks for sound with echo cancellation", async () => {
    const stream = new FakeStream([new FakeTrack("audio")]);
    const getUserMedia = vi.fn().mockResolvedValue(stream);
    await expect(openMicrophone({ getUserMedia })).resolves.toBe(stream);
    expect(getUserMedia).toHaveBeenCalledWith(expect.objectContaining({ video: false }));
    expect(getUserMedia.mock.calls[0]?.[0].audio.echoCancellation).toBe(true);
  });

  it("is null when refused or not available", async () => {
    await expect(openMicrophone({ getUserMedia: vi.fn().mockRejectedValue(new Error("denied")) })).resolves.toBeNull();
    await expect(openMicrophone(undefined)).resolves.toBeNull();
  });
});

describe("useWebRtc", () => {
  it("closes its peer when the component goes away", async () => {
    const scope = effectScope();
    const ends: PeerEnd[] = [];
    const handle = scope.run(() => useWebRtc((reason) => ends.push(reason)))!;
    await handle.start(options({ kind: "live" }));
    FakePeer.last.become("connected");
    expect(handle.phase.value).toBe("connected");
    scope.stop();
    expect(FakePeer.last.closed).toBe(true);
    expect(handle.ended.value).toBe("closed");
    expect(ends).toEqual(["closed"]);
  });

  it("replaces a peer without reporting the old one's end", async () => {
    const scope = effectScope();
    const ends: PeerEnd[] = [];
    const handle = scope.run(() => useWebRtc((reason) => ends.push(reason)))!;
    await handle.start(options({ kind: "live" }));
    const first = FakePeer.last;
    await handle.start(options({ kind: "live" }));
    expect(first.closed).toBe(true);
    expect(ends).toEqual([]);
    expect(handle.phase.value).toBe("connecting");
    scope.stop();
  });
});
