import { markRaw, onScopeDispose, ref, shallowRef, type Ref, type ShallowRef } from "vue";
import { call, client } from "@/api/client";

/**
 * A WebRTC peer to a device at the site bridge (docs/intercom.md). The browser makes the offer,
 * waits until ICE gathering is complete (the bridge's aiortc does not trickle), posts the whole SDP
 * through the platform and applies the answer. A call sends the microphone and receives the door
 * station's video and sound; a live view only receives video.
 */

/** A call to a door station (video in, audio both ways) or a camera's live view (video in). */
export type MediaKind = "call" | "live";

/** One STUN/TURN server as `GET /api/v1/media/ice-servers` lists it. */
export interface IceServer {
  urls: string | string[];
  username?: string | null;
  credential?: string | null;
}

/** Where the peer is: offering (gathering, signalling), connecting (ICE/DTLS), connected, or ended. */
export type PeerPhase = "idle" | "offering" | "connecting" | "connected" | "ended";

/**
 * Why a peer ended: `closed` by this side, `network` when ICE/DTLS failed or stayed disconnected,
 * `refused` when the offer was not answered (the platform said no, or the request failed).
 */
export type PeerEnd = "closed" | "network" | "refused";

export interface PeerOptions {
  kind: MediaKind;
  iceServers: readonly IceServer[];
  /** Post the complete offer to the platform; resolves to the answer's SDP. */
  signal: (offer: string) => Promise<string>;
  /** The microphone for a call (null: listen only, e.g. permission refused). */
  microphone?: MediaStream | null;
  /** Send the offer with what has been gathered by then, rather than wait for a slow STUN server. */
  gatherTimeoutMs?: number;
  /** A connection that stays "disconnected" this long has failed (it usually comes back sooner). */
  disconnectGraceMs?: number;
  /** Told once, when the peer ends for any reason. */
  onEnd?: (reason: PeerEnd, error?: unknown) => void;
  /** Told on every phase change. */
  onPhase?: (phase: PeerPhase) => void;
  createPeer?: (config: RTCConfiguration) => RTCPeerConnection;
  createStream?: () => MediaStream;
}

export const GATHER_TIMEOUT_MS = 5_000;
export const DISCONNECT_GRACE_MS = 5_000;

/** The platform's STUN/TURN servers; none when they cannot be read (host candidates work on a LAN). */
export async function loadIceServers(): Promise<IceServer[]> {
  try {
    return (await call(client.GET("/api/v1/media/ice-servers"))).ice_servers;
  } catch {
    return [];
  }
}

/** The browser's RTCIceServer list from the platform's (empty fields left out). */
export function rtcIceServers(servers: readonly IceServer[]): RTCIceServer[] {
  return servers.map(({ urls, username, credential }) => ({
    urls,
    ...(username ? { username } : {}),
    ...(credential ? { credential } : {}),
  }));
}

/** Resolve once the peer has gathered every candidate, or when `timeoutMs` is over. */
export function gatheringComplete(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      pc.removeEventListener("icecandidate", last);
      resolve();
    };
    const check = (): void => {
      if (pc.iceGatheringState === "complete") done();
    };
    // Some browsers signal the end only with a null candidate.
    const last = (event: RTCPeerConnectionIceEvent): void => {
      if (event.candidate === null) done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener("icegatheringstatechange", check);
    pc.addEventListener("icecandidate", last);
  });
}

/** One peer connection's life: offer, answer, media, end. Closing is safe at any time and twice. */
export class MediaPeer {
  /** The received tracks (video, and sound for a call), ready for a <video> element. */
  readonly remote: MediaStream;
  phase: PeerPhase = "idle";
  private pc: RTCPeerConnection | null = null;
  private graceTimer: ReturnType<typeof setTimeout> | null = null;
  private ended = false;

  constructor(private readonly options: PeerOptions) {
    this.remote = options.createStream?.() ?? new MediaStream();
  }

  /** The underlying connection while it is open (for statistics). */
  get connection(): RTCPeerConnection | null {
    return this.pc;
  }

  private open(): RTCPeerConnection {
    if (this.phase !== "idle") throw new Error("a MediaPeer starts once");
    const create = this.options.createPeer ?? ((config: RTCConfiguration) => new RTCPeerConnection(config));
    const pc = create({ iceServers: rtcIceServers(this.options.iceServers), bundlePolicy: "max-bundle" });
    this.pc = pc;
    this.setPhase("offering");
    pc.addEventListener("track", (event) => {
      if (!this.remote.getTracks().includes(event.track)) this.remote.addTrack(event.track);
    });
    pc.addEventListener("connectionstatechange", () => this.connectionChanged());
    return pc;
  }

  /**
   * The caller's end of a call placed in the app (docs/intercom-app.md): take the answering side's
   * offer, send the microphone (and camera, when `microphone` holds one) back on its lines, gather,
   * and post the answer through `signal`. Rejects (and ends the peer as `refused`) when that fails.
   */
  async answerOffer(offer: string): Promise<void> {
    const pc = this.open();
    const outgoing = this.options.microphone ?? null;
    try {
      await pc.setRemoteDescription({ type: "offer", sdp: offer });
      for (const transceiver of pc.getTransceivers()) {
        const kind = transceiver.receiver.track.kind;
        const track = outgoing?.getTracks().find((t) => t.kind === kind);
        if (!track || !outgoing) continue;
        await transceiver.sender.replaceTrack(track);
        transceiver.sender.setStreams?.(outgoing);
        // The answering side receives video only; audio goes both ways.
        transceiver.direction = kind === "audio" ? "sendrecv" : "sendonly";
      }
      await pc.setLocalDescription(await pc.createAnswer());
      if ((await this.signalLocal(pc)) === null) return;
      this.setPhase(pc.connectionState === "connected" ? "connected" : "connecting");
    } catch (err) {
      if (!this.ended) this.finish("refused", err);
      throw err;
    }
  }

  /** Offer, gather, signal, answer. Rejects (and ends the peer as `refused`) when signalling fails. */
  async start(): Promise<void> {
    const { kind, microphone } = this.options;
    const pc = this.open();

    pc.addTransceiver("video", { direction: "recvonly" });
    if (kind === "call") {
      const track = microphone?.getAudioTracks()[0];
      if (track && microphone) pc.addTransceiver(track, { direction: "sendrecv", streams: [microphone] });
      else pc.addTransceiver("audio", { direction: "recvonly" });
    }

    try {
      await pc.setLocalDescription(await pc.createOffer());
      const answer = await this.signalLocal(pc);
      if (answer === null) return;
      await pc.setRemoteDescription({ type: "answer", sdp: answer });
      if (this.ended) return;
      this.setPhase(pc.connectionState === "connected" ? "connected" : "connecting");
    } catch (err) {
      if (!this.ended) this.finish("refused", err);
      throw err;
    }
  }

  /** Gather, post the complete local description through `signal`: its reply, or null once ended. */
  private async signalLocal(pc: RTCPeerConnection): Promise<string | null> {
    await gatheringComplete(pc, this.options.gatherTimeoutMs ?? GATHER_TIMEOUT_MS);
    if (this.ended) return null;
    const local = pc.localDescription?.sdp;
    if (!local) throw new Error("no local description");
    const reply = await this.options.signal(local);
    return this.ended ? null : reply;
  }

  /** End the peer from this side: stop the microphone and the received tracks, close the connection. */
  close(): void {
    this.finish("closed");
  }

  private connectionChanged(): void {
    const pc = this.pc;
    if (!pc || this.ended) return;
    switch (pc.connectionState) {
      case "connected":
        this.clearGrace();
        this.setPhase("connected");
        break;
      case "disconnected":
        // Consent checks lost for a moment (a Wi-Fi hand-over) often recover; a lasting loss is the end.
        this.clearGrace();
        this.graceTimer = setTimeout(
          () => this.finish("network"),
          this.options.disconnectGraceMs ?? DISCONNECT_GRACE_MS,
        );
        break;
      case "failed":
      case "closed":
        this.finish("network");
        break;
      default:
        break;
    }
  }

  private finish(reason: PeerEnd, error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.clearGrace();
    for (const track of this.options.microphone?.getTracks() ?? []) track.stop();
    for (const track of this.remote.getTracks()) track.stop();
    const pc = this.pc;
    this.pc = null;
    if (pc) {
      try {
        pc.close();
      } catch {
        // Already closed.
      }
    }
    this.setPhase("ended");
    this.options.onEnd?.(reason, error);
  }

  private clearGrace(): void {
    if (this.graceTimer !== null) clearTimeout(this.graceTimer);
    this.graceTimer = null;
  }

  private setPhase(phase: PeerPhase): void {
    if (this.phase === phase) return;
    this.phase = phase;
    this.options.onPhase?.(phase);
  }
}

type Media = Pick<MediaDevices, "getUserMedia"> | undefined;
const VOICE = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

async function userMedia(media: Media, video: MediaTrackConstraints | false): Promise<MediaStream | null> {
  if (!media?.getUserMedia) return null;
  try {
    return await media.getUserMedia({ audio: VOICE, video });
  } catch {
    return null;
  }
}

/** The microphone for a call with echo cancellation, or null when it is refused or missing. */
export async function openMicrophone(media: Media = navigator.mediaDevices): Promise<MediaStream | null> {
  return userMedia(media, false);
}

/** The microphone and, where there is one, the camera of the caller of an app call; null when refused. */
export async function openCallerMedia(media: Media = navigator.mediaDevices): Promise<MediaStream | null> {
  return (
    (await userMedia(media, { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } })) ??
    openMicrophone(media)
  );
}

export interface WebRtcHandle {
  phase: Ref<PeerPhase>;
  ended: Ref<PeerEnd | null>;
  remote: ShallowRef<MediaStream | null>;
  /** Offer through `signal` and connect; rejects when signalling fails. */
  start: (options: Omit<PeerOptions, "onEnd" | "onPhase">) => Promise<MediaPeer>;
  close: () => void;
}

/**
 * A peer owned by the calling component: reactive phase and end reason, the received stream, and
 * closed when the component (its effect scope) goes away, so no view leaves a session behind.
 */
export function useWebRtc(onEnd?: (reason: PeerEnd) => void): WebRtcHandle {
  const phase = ref<PeerPhase>("idle");
  const ended = ref<PeerEnd | null>(null);
  const remote = shallowRef<MediaStream | null>(null);
  let peer: MediaPeer | null = null;

  async function start(options: Omit<PeerOptions, "onEnd" | "onPhase">): Promise<MediaPeer> {
    const previous = peer;
    peer = null;
    previous?.close();
    ended.value = null;
    const current = markRaw(
      new MediaPeer({
        ...options,
        onPhase: (value) => {
          if (peer === current) phase.value = value;
        },
        onEnd: (reason) => {
          if (peer !== current) return;
          ended.value = reason;
          onEnd?.(reason);
        },
      }),
    );
    peer = current;
    remote.value = current.remote;
    await current.start();
    return current;
  }

  function close(): void {
    peer?.close();
  }

  onScopeDispose(close);
  return { phase, ended, remote, start, close };
}

type FrameCallback = (now: number, metadata: unknown) => void;
type FrameVideo = HTMLVideoElement & {
  requestVideoFrameCallback?: (callback: FrameCallback) => number;
  cancelVideoFrameCallback?: (handle: number) => void;
};

/**
 * Count the frames a <video> presents: `data-frames` and `data-first-frame-ms` (performance.now()
 * of the first) on the element, for the page's "connecting" state, the e2e tests and the
 * set-up benchmark. Without requestVideoFrameCallback, the first frame is `loadeddata`.
 * Returns a function that stops counting.
 */
export function countFrames(el: HTMLVideoElement, onFirst?: () => void): () => void {
  const video = el as FrameVideo;
  let stopped = false;
  let frames = 0;
  let handle: number | null = null;
  const first = (): void => {
    video.dataset.firstFrameMs = String(performance.now());
    onFirst?.();
  };
  if (!video.requestVideoFrameCallback) {
    video.addEventListener("loadeddata", first, { once: true });
    return () => video.removeEventListener("loadeddata", first);
  }
  const onFrame: FrameCallback = () => {
    if (stopped) return;
    frames += 1;
    video.dataset.frames = String(frames);
    if (frames === 1) first();
    handle = video.requestVideoFrameCallback?.(onFrame) ?? null;
  };
  handle = video.requestVideoFrameCallback(onFrame);
  return () => {
    stopped = true;
    if (handle !== null) video.cancelVideoFrameCallback?.(handle);
  };
}
