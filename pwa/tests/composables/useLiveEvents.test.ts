import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { effectScope } from "vue";
import {
  backoffDelay,
  DEFAULT_BACKOFF,
  type LiveEvent,
  LiveConnection,
  liveUrl,
  NOT_AUTHENTICATED,
  type SocketLike,
  useLiveEvents,
} from "@/composables/useLiveEvents";

/** A WebSocket the test drives: the server's side is `hello()`, `send()`, `drop()`. */
class FakeSocket implements SocketLike {
  static made: FakeSocket[] = [];
  onmessage: SocketLike["onmessage"] = null;
  onclose: SocketLike["onclose"] = null;
  closed: number | null = null;

  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }

  static get last(): FakeSocket {
    const socket = FakeSocket.made.at(-1);
    if (!socket) throw new Error("no socket was opened");
    return socket;
  }

  close(code = 1000): void {
    this.closed = code;
  }

  send(data: unknown): void {
    this.onmessage?.call(this as unknown as WebSocket, new MessageEvent("message", { data: JSON.stringify(data) }));
  }

  sendRaw(data: string): void {
    this.onmessage?.call(this as unknown as WebSocket, new MessageEvent("message", { data }));
  }

  hello(): void {
    this.send({ type: "hello", channels: 2 });
  }

  drop(code = 1006): void {
    this.onclose?.call(this as unknown as WebSocket, new CloseEvent("close", { code }));
  }
}

const create = (url: string) => new FakeSocket(url);
const noJitter = () => 0;

function connection(events: LiveEvent[] = [], opens: boolean[] = []) {
  return new LiveConnection({
    url: "ws://anju.test/api/v1/ws",
    onEvent: (event) => events.push(event),
    onOpen: (again) => opens.push(again),
    createSocket: create,
    random: noJitter,
  });
}

beforeEach(() => {
  FakeSocket.made = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe("backoffDelay", () => {
  it("doubles from a second up to half a minute", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, DEFAULT_BACKOFF, noJitter))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it("takes up to a fifth off at random", () => {
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 1)).toBe(3_200);
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 0.5)).toBe(3_600);
  });
});

describe("liveUrl", () => {
  it("uses the page's host and wss under https", () => {
    expect(liveUrl({ protocol: "https:", host: "anju.example.cn" })).toBe("wss://anju.example.cn/api/v1/ws");
    expect(liveUrl({ protocol: "http:", host: "127.0.0.1:8000" })).toBe("ws://127.0.0.1:8000/api/v1/ws");
  });
});

describe("LiveConnection", () => {
  it("passes on events after the server's hello, and not the hello itself", () => {
    const events: LiveEvent[] = [];
    const opens: boolean[] = [];
    const live = connection(events, opens);
    live.start();
    expect(FakeSocket.last.url).toBe("ws://anju.test/api/v1/ws");
    FakeSocket.last.hello();
    expect(live.connected).toBe(true);
    expect(opens).toEqual([false]);
    FakeSocket.last.send({ type: "device.event", kind: "device.offline", device_id: "d1" });
    FakeSocket.last.sendRaw("not json");
    FakeSocket.last.send({ no: "type" });
    FakeSocket.last.send({ type: "bridge.offline", bridge_id: "b1" });
    expect(events.map((e) => e.type)).toEqual(["device.event", "bridge.offline"]);
  });

  it("reconnects after a drop with growing delays, and says it is back", () => {
    const opens: boolean[] = [];
    const live = connection([], opens);
    live.start();
    FakeSocket.last.hello();
    FakeSocket.last.drop();
    expect(live.connected).toBe(false);
    expect(FakeSocket.made).toHaveLength(1);

    vi.advanceTimersByTime(999);
    expect(FakeSocket.made).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.made).toHaveLength(2);

    FakeSocket.last.drop(); // the server is still away: wait twice as long
    vi.advanceTimersByTime(1_999);
    expect(FakeSocket.made).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.made).toHaveLength(3);

    FakeSocket.last.drop();
    vi.advanceTimersByTime(4_000);
    expect(FakeSocket.made).toHaveLength(4);
    FakeSocket.last.hello();
    expect(opens).toEqual([false, true]);
  });

  it("starts the backoff over once a connection worked", () => {
    const live = connection();
    live.start();
    for (let i = 0; i < 3; i += 1) {
      FakeSocket.last.drop();
      vi.runOnlyPendingTimers();
    }
    FakeSocket.last.hello();
    FakeSocket.last.drop();
    vi.advanceTimersByTime(1_000);
    expect(FakeSocket.made).toHaveLength(5);
  });

  it("gives up when the server says the session is not signed in", () => {
    const live = connection();
    live.start();
    FakeSocket.last.drop(NOT_AUTHENTICATED);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.made).toHaveLength(1);
    expect(live.waiting).toBe(false);
  });

  it("closes the socket and stops reconnecting when stopped", () => {
    const live = connection();
    live.start();
    const first = FakeSocket.last;
    first.hello();
    live.stop();
    expect(first.closed).toBe(1000);
    expect(live.connected).toBe(false);
    first.drop(); // a late close event changes nothing
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.made).toHaveLength(1);
  });

  it("stops a scheduled reconnect too", () => {
    const live = connection();
    live.start();
    FakeSocket.last.drop();
    expect(live.waiting).toBe(true);
    live.stop();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.made).toHaveLength(1);
  });

  it("reconnects at once when nudged while waiting", () => {
    const live = connection();
    live.start();
    FakeSocket.last.drop();
    live.nudge();
    expect(FakeSocket.made).toHaveLength(2);
    live.nudge(); // already connecting: no second socket
    expect(FakeSocket.made).toHaveLength(2);
  });

  it("retries when the socket cannot even be made", () => {
    let fail = true;
    const live = new LiveConnection({
      url: "ws://anju.test/api/v1/ws",
      onEvent: () => {},
      createSocket: (url) => {
        if (fail) throw new SyntaxError("bad url");
        return create(url);
      },
      random: noJitter,
    });
    live.start();
    expect(live.waiting).toBe(true);
    fail = false;
    vi.advanceTimersByTime(1_000);
    expect(FakeSocket.made).toHaveLength(1);
  });
});

describe("useLiveEvents", () => {
  it("opens with its scope, reports the state, and closes when the scope ends", () => {
    const events: LiveEvent[] = [];
    const scope = effectScope();
    const live = scope.run(() => useLiveEvents((event) => events.push(event), { createSocket: create }))!;
    expect(FakeSocket.last.url).toBe(`ws://${window.location.host}/api/v1/ws`);
    expect(live.connected.value).toBe(false);
    FakeSocket.last.hello();
    expect(live.connected.value).toBe(true);
    FakeSocket.last.send({ type: "device.event", kind: "device.online", device_id: "d1" });
    expect(events).toHaveLength(1);

    const socket = FakeSocket.last;
    scope.stop();
    expect(socket.closed).toBe(1000);
    expect(live.connected.value).toBe(false);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.made).toHaveLength(1);
  });

  it("reconnects at once when the browser comes back online", () => {
    const scope = effectScope();
    scope.run(() => useLiveEvents(() => {}, { createSocket: create }));
    FakeSocket.last.drop();
    window.dispatchEvent(new Event("online"));
    expect(FakeSocket.made).toHaveLength(2);
    scope.stop();
    window.dispatchEvent(new Event("online"));
    expect(FakeSocket.made).toHaveLength(2);
  });
});
