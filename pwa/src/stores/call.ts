import { defineStore } from "pinia";
import { markRaw, ref, shallowRef } from "vue";
import { doorReason } from "@/access";
import { call as request, client } from "@/api/client";
import {
  type IceServer,
  loadIceServers,
  MediaPeer,
  openCallerMedia,
  openMicrophone,
  type PeerEnd,
} from "@/composables/useWebRtc";
import {
  type CallEnd,
  type CallEnded,
  type CallOffer,
  endFor,
  endForAnswerError,
  endForCaller,
  type IncomingCall,
  intercomError,
} from "@/intercom";
import { i18n } from "@/i18n";

/**
 * Ringing on this phone, calling out from it (a call placed in the app, waiting for an answer),
 * answered and connecting, talking, or over (the screen still shows why).
 */
export type CallPhase = "ringing" | "calling" | "connecting" | "live" | "ended";

export type UnlockState = "idle" | "busy" | "granted" | "failed";

/** The platform's default; the answer says the configured one. */
export const DEFAULT_LIMIT_S = 90;
/** ICE and DTLS on a LAN take well under a second; this long without media is a failed call. */
export const CONNECT_TIMEOUT_MS = 20_000;
/** The bridge ends a call at its limit; the screen ends it itself a moment later if no word came. */
const LIMIT_GRACE_MS = 3_000;

/**
 * The one intercom call of this phone (docs/intercom.md): rung by the live channel or a push
 * notification, answered here with a WebRTC peer to the door station, ended by either side, the
 * duration limit or the network. The incoming-call overlay and the in-call screen both show it.
 */
export const useCall = defineStore("call", () => {
  const current = ref<IncomingCall | null>(null);
  const phase = ref<CallPhase | null>(null);
  const end = ref<CallEnd | null>(null);
  /** Who ended or answered it elsewhere (a name), and what went wrong for a failed call. */
  const endBy = ref<string | null>(null);
  const endDetail = ref("");
  const remote = shallowRef<MediaStream | null>(null);
  /** Whether the microphone is sent (false: permission refused, listen only). */
  const microphone = ref(false);
  const muted = ref(false);
  const speaker = ref(true);
  const limitS = ref(DEFAULT_LIMIT_S);
  /** Date.now() when media started to flow: the call's clock. */
  const liveSince = ref<number | null>(null);
  /** performance.now() of the answer tap, for measuring set-up time. */
  const answeredAt = ref<number | null>(null);
  const unlock = ref<UnlockState>("idle");
  const unlockMessage = ref("");
  /** This phone placed the call (the guard room calling a household, a resident the guard room). */
  const outgoing = ref(false);

  let peer: MediaPeer | null = null;
  let mic: MediaStream | null = null;
  let limitTimer: ReturnType<typeof setTimeout> | null = null;
  let connectTimer: ReturnType<typeof setTimeout> | null = null;

  function clearTimers(): void {
    if (limitTimer !== null) clearTimeout(limitTimer);
    if (connectTimer !== null) clearTimeout(connectTimer);
    limitTimer = connectTimer = null;
  }

  function release(): void {
    clearTimers();
    const old = peer;
    peer = null;
    old?.close();
    for (const track of mic?.getTracks() ?? []) track.stop();
    mic = null;
  }

  function reset(): void {
    release();
    current.value = null;
    phase.value = null;
    end.value = null;
    endBy.value = null;
    endDetail.value = "";
    remote.value = null;
    microphone.value = false;
    muted.value = false;
    speaker.value = true;
    limitS.value = DEFAULT_LIMIT_S;
    liveSince.value = null;
    answeredAt.value = null;
    unlock.value = "idle";
    unlockMessage.value = "";
    outgoing.value = false;
  }

  /** Whether this phone is taken by a call (calling out, answering or talking). */
  function busy(): boolean {
    return phase.value === "calling" || phase.value === "connecting" || phase.value === "live";
  }

  /** A call rings here; false when this phone is already in another call (it stays in the history). */
  function ring(incoming: IncomingCall): boolean {
    if (busy()) return current.value?.id === incoming.id;
    if (current.value?.id === incoming.id && phase.value === "ringing") return true;
    reset();
    current.value = incoming;
    phase.value = "ringing";
    return true;
  }

  function finish(reason: CallEnd, by: string | null = null, detail = ""): void {
    if (phase.value === null || phase.value === "ended") return;
    release();
    phase.value = "ended";
    end.value = reason;
    endBy.value = by;
    endDetail.value = detail;
  }

  /** The live channel said the call ended (or was answered by someone else). */
  function heard(ended: CallEnded): void {
    if (!current.value || ended.id !== current.value.id) return;
    if (outgoing.value) finish(endForCaller(ended, phase.value !== "calling"), ended.by);
    else if (current.value.fromApp && ended.outcome === "unanswered") finish(busy() ? "remote_hangup" : "cancelled");
    // This phone's own hang-up ended the screen before the word came: a hang-up heard is the caller's.
    else if (current.value.fromApp && ended.outcome === "hangup") finish("remote_hangup", ended.by);
    else finish(endFor(ended, busy()), ended.by);
  }

  function goLive(): void {
    if (phase.value !== "connecting") return;
    if (connectTimer !== null) clearTimeout(connectTimer);
    connectTimer = null;
    phase.value = "live";
    liveSince.value = Date.now();
    limitTimer = setTimeout(() => finish("limit"), limitS.value * 1000 + LIMIT_GRACE_MS);
  }

  function peerEnded(reason: PeerEnd): void {
    // "closed" is this side's own doing and "refused" is handled where the answer failed.
    if (reason === "network") finish("network");
  }

  /**
   * This phone's peer for call `id`: live once connected, ended by the network, and given
   * CONNECT_TIMEOUT_MS to connect (then it hangs up, so the other end stops waiting).
   */
  function newPeer(
    id: string,
    iceServers: IceServer[],
    stream: MediaStream | null,
    signal: (sdp: string) => Promise<string>,
  ): MediaPeer {
    const created: MediaPeer = markRaw(
      new MediaPeer({
        kind: "call",
        iceServers,
        microphone: stream,
        signal,
        onPhase: (value) => {
          if (peer === created && value === "connected") goLive();
        },
        onEnd: (reason) => {
          if (peer === created) peerEnded(reason);
        },
      }),
    );
    peer = created;
    remote.value = created.remote;
    connectTimer = setTimeout(() => {
      if (phase.value !== "connecting" || current.value?.id !== id) return;
      finish("network");
      void request(client.POST("/api/v1/calls/{call_id}/hangup", { params: { path: { call_id: id } } })).catch(
        () => undefined,
      );
    }, CONNECT_TIMEOUT_MS);
    return created;
  }

  /** Answer: microphone, offer to the station through the platform, media. */
  async function answer(): Promise<void> {
    const ringing = current.value;
    if (!ringing || phase.value !== "ringing") return;
    const id = ringing.id;
    phase.value = "connecting";
    answeredAt.value = performance.now();
    const [servers, stream] = await Promise.all([loadIceServers(), openMicrophone()]);
    if (phase.value !== "connecting" || current.value?.id !== id) {
      for (const track of stream?.getTracks() ?? []) track.stop();
      return; // ended (or declined elsewhere) while the microphone was being asked for
    }
    mic = stream;
    microphone.value = stream !== null;
    const created = newPeer(id, servers, stream, async (sdp) => {
      const answered = await request(
        client.POST("/api/v1/calls/{call_id}/answer", { params: { path: { call_id: id } }, body: { sdp } }),
      );
      limitS.value = answered.max_duration_s;
      return answered.sdp;
    });
    try {
      await created.start();
    } catch (err) {
      if (peer === created || (phase.value === "connecting" && current.value?.id === id)) {
        finish(endForAnswerError(err), null, intercomError(err));
      }
    }
  }

  /**
   * Place a call in the app: the guard room calls a household, a resident the guard room. The
   * phone shows the in-call screen at once, calling (with a ringback) until someone answers.
   */
  async function place(target: "household" | "guard_room", householdId?: string): Promise<string> {
    if (busy()) throw new Error("already in a call");
    const placed = await request(
      client.POST("/api/v1/calls", { body: { target, household_id: householdId ?? null } }),
    );
    reset();
    current.value = {
      id: placed.id,
      station:
        target === "guard_room" ? i18n.global.t("intercom.guardRoom") : (placed.household_label ?? placed.station_name),
      doorName: null,
      target,
      reason: placed.reason,
      householdLabel: placed.household_label ?? null,
      startedAt: placed.started_at,
      fromApp: true,
    };
    outgoing.value = true;
    phase.value = "calling";
    answeredAt.value = performance.now();
    return placed.id;
  }

  /** Someone answered this phone's call: answer their offer with the microphone (and camera). */
  async function offered(offer: CallOffer): Promise<void> {
    if (!outgoing.value || phase.value !== "calling" || current.value?.id !== offer.id) return;
    const id = offer.id;
    phase.value = "connecting";
    limitS.value = offer.maxDurationS;
    const stream = await openCallerMedia();
    if (phase.value !== "connecting" || current.value?.id !== id) {
      for (const track of stream?.getTracks() ?? []) track.stop();
      return;
    }
    mic = stream;
    microphone.value = (stream?.getAudioTracks().length ?? 0) > 0;
    const created = newPeer(id, offer.iceServers, stream, async (sdp) => {
      await request(
        client.POST("/api/v1/calls/{call_id}/connect", { params: { path: { call_id: id } }, body: { sdp } }),
      );
      return "";
    });
    try {
      await created.answerOffer(offer.sdp);
    } catch (err) {
      if (peer === created || (phase.value === "connecting" && current.value?.id === id)) {
        finish("failed", null, intercomError(err));
      }
    }
  }

  /** Decline a ringing call for the whole household (or guard room). */
  async function decline(): Promise<void> {
    const ringing = current.value;
    if (!ringing || phase.value !== "ringing") return;
    finish("declined");
    try {
      await request(client.POST("/api/v1/calls/{call_id}/decline", { params: { path: { call_id: ringing.id } } }));
    } catch {
      // Already answered or over: the screen has ended either way.
    }
  }

  /**
   * Hang up a call this phone answered. The platform hears it before the peer closes: a peer that
   * just went away would otherwise reach the station first and be taken for a dropped network.
   */
  async function hangup(): Promise<void> {
    const active = current.value;
    if (!active || !busy()) return;
    const [held, heldMic] = [peer, mic];
    peer = null;
    mic = null;
    for (const track of heldMic?.getTracks() ?? []) track.enabled = false;
    finish("hangup");
    try {
      await request(client.POST("/api/v1/calls/{call_id}/hangup", { params: { path: { call_id: active.id } } }));
    } catch {
      // The station or the network ended it first.
    } finally {
      held?.close();
      for (const track of heldMic?.getTracks() ?? []) track.stop();
    }
  }

  /** Open the station's door for the visitor (only while the call is live). */
  async function openDoor(): Promise<void> {
    const active = current.value;
    if (!active || phase.value !== "live" || unlock.value === "busy") return;
    const { t } = i18n.global;
    unlock.value = "busy";
    unlockMessage.value = "";
    try {
      const result = await request(
        client.POST("/api/v1/calls/{call_id}/unlock", { params: { path: { call_id: active.id } } }),
      );
      const ok = result.result === "granted";
      unlock.value = ok ? "granted" : "failed";
      unlockMessage.value = ok
        ? t("intercom.unlocked", { door: result.door_name })
        : doorReason(result.reason, result.result) || t("intercom.unlockFailed");
    } catch (err) {
      unlock.value = "failed";
      unlockMessage.value = intercomError(err);
    }
  }

  function toggleMute(): void {
    muted.value = !muted.value;
    for (const track of mic?.getAudioTracks() ?? []) track.enabled = !muted.value;
  }

  /** The visitor's voice on or off (a web page cannot pick earpiece or loudspeaker on a phone). */
  function toggleSpeaker(): void {
    speaker.value = !speaker.value;
  }

  /** Forget an ended call (the screen was left). */
  function dismiss(): void {
    if (phase.value === "ended") reset();
  }

  /** Forget whatever call there is, without telling anyone (signed out, or a role without calls). */
  function forget(): void {
    reset();
  }

  /** The underlying connection, for statistics while the call is on. */
  function connection(): RTCPeerConnection | null {
    return peer?.connection ?? null;
  }

  return {
    current,
    phase,
    end,
    endBy,
    endDetail,
    remote,
    microphone,
    muted,
    speaker,
    limitS,
    liveSince,
    answeredAt,
    unlock,
    unlockMessage,
    outgoing,
    ring,
    place,
    offered,
    heard,
    answer,
    decline,
    hangup,
    openDoor,
    toggleMute,
    toggleSpeaker,
    dismiss,
    forget,
    finish,
    connection,
  };
});
