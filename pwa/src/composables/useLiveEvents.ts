import { onScopeDispose, ref, type Ref } from "vue";

/** One message of the live channel, e.g. `{type: "device.event", kind: "device.offline", device_id}`. */
export interface LiveEvent {
  type: string;
  [field: string]: unknown;
}

/** What the connection needs of a WebSocket (so tests can hand it a fake one). */
export type SocketLike = Pick<WebSocket, "onmessage" | "onclose" | "close">;

export type SocketFactory = (url: string) => SocketLike;

export interface Backoff {
  /** Delay before the first reconnect. */
  initialMs: number;
  /** The delay doubles up to this. */
  maxMs: number;
  /** Up to this share of a delay is taken off at random, so that many phones do not return at once. */
  jitter: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 1_000, maxMs: 30_000, jitter: 0.2 };

/** The server closes with this when the cookie is not a signed-in session: retrying will not help. */
export const NOT_AUTHENTICATED = 4401;

/** The wait before reconnect attempt `attempt` (0 for the first): doubling, capped, jittered. */
export function backoffDelay(attempt: number, backoff: Backoff = DEFAULT_BACKOFF, random = Math.random): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** attempt);
  return Math.round(base * (1 - backoff.jitter * random()));
}

/** The live channel of this origin: ws(s)://host/api/v1/ws (the session cookie goes along). */
export function liveUrl(location: { protocol: string; host: string } = window.location): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/api/v1/ws`;
}

export interface LiveOptions {
  url: string;
  onEvent: (event: LiveEvent) => void;
  /** The server said hello: `again` is true after a reconnect (events may have been missed). */
  onOpen?: (again: boolean) => void;
  onStatus?: (connected: boolean) => void;
  createSocket?: SocketFactory;
  backoff?: Backoff;
  random?: () => number;
}

/**
 * One WebSocket kept open: reconnects with backoff when it drops, until stopped or refused.
 * The backoff restarts once the server says hello, i.e. once a connection really worked.
 */
export class LiveConnection {
  private socket: SocketLike | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private greeted = false;
  private stopped = true;
  connected = false;

  constructor(private readonly options: LiveOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onmessage = null;
      socket.onclose = null;
      socket.close(1000, "done");
    }
    this.setConnected(false);
  }

  /** Reconnect now rather than at the end of the backoff (the network came back, the app is in view). */
  nudge(): void {
    if (this.stopped || this.socket !== null) return;
    this.clearTimer();
    this.connect();
  }

  /** Whether a reconnect is scheduled. */
  get waiting(): boolean {
    return this.timer !== null;
  }

  private connect(): void {
    const create = this.options.createSocket ?? ((url: string) => new WebSocket(url));
    let socket: SocketLike;
    try {
      socket = create(this.options.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.setConnected(false);
      if (event.code === NOT_AUTHENTICATED) {
        this.stopped = true;
        return;
      }
      this.scheduleReconnect();
    };
  }

  private receive(data: unknown): void {
    if (typeof data !== "string") return;
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof event !== "object" || event === null || typeof (event as LiveEvent).type !== "string") return;
    if ((event as LiveEvent).type === "hello") {
      this.attempt = 0;
      this.setConnected(true);
      this.options.onOpen?.(this.greeted);
      this.greeted = true;
      return;
    }
    this.options.onEvent(event as LiveEvent);
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt, this.options.backoff, this.options.random);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.connect();
    }, delay);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.options.onStatus?.(connected);
  }
}

/**
 * The signed-in account's live events while the calling component is mounted: the socket opens now,
 * comes back by itself after a drop, and closes when the component (its effect scope) goes away.
 */
export function useLiveEvents(
  onEvent: (event: LiveEvent) => void,
  options: Partial<Omit<LiveOptions, "onEvent" | "onStatus">> = {},
): { connected: Ref<boolean> } {
  const connected = ref(false);
  const connection = new LiveConnection({
    url: options.url ?? liveUrl(),
    onEvent,
    onOpen: options.onOpen,
    onStatus: (value) => (connected.value = value),
    createSocket: options.createSocket,
    backoff: options.backoff,
    random: options.random,
  });
  const nudge = (): void => {
    if (document.visibilityState !== "hidden") connection.nudge();
  };
  window.addEventListener("online", nudge);
  document.addEventListener("visibilitychange", nudge);
  connection.start();
  onScopeDispose(() => {
    window.removeEventListener("online", nudge);
    document.removeEventListener("visibilitychange", nudge);
    connection.stop();
  });
  return { connected };
}
