/**
 * One STOMP connection to one Parley process, through @stomp/stompjs and Bun's WebSocket, as a browser client
 * would make it. It records what the server delivered and turns RECEIPTs and rejections into promises; it never
 * reconnects by itself (the failover logic lives in traffic.ts, where the tests can see it).
 */
import { Client, type IFrame, type IMessage, type IStompSocket, type StompHeaders } from "@stomp/stompjs";
import type { RoomLog } from "./room-log.ts";

const CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_SEND_TIMEOUT_MS = 10_000;

export interface Receipt {
  readonly messageId: string;
  readonly seq: number;
}

/** The server answered a SEND with a MESSAGE on /user/queue/errors naming the SEND's receipt. */
export class SendRejected extends Error {
  constructor(readonly code: string) {
    super(`send rejected: ${code}`);
    this.name = "SendRejected";
  }
}

/** The connection closed (or the receipt never came) before the server answered. */
export class SendUnanswered extends Error {
  constructor(reason: string) {
    super(`send unanswered: ${reason}`);
    this.name = "SendUnanswered";
  }
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
  /** The `code` header of an ERROR frame received before the close, if any. */
  readonly errorCode: string | null;
  /** When the close was observed (Date.now()). */
  readonly at: number;
}

export interface QueuedError {
  readonly code: string;
  readonly receiptId: string | null;
  readonly body: string;
}

export interface StompPeer {
  /** Which process this connection went to (a label for messages). */
  readonly node: string;
  /** Headers of the CONNECTED frame. */
  readonly connected: StompHeaders;
  /** Resolves once the WebSocket has closed, for whatever reason. */
  readonly closed: Promise<CloseInfo>;
  isOpen(): boolean;
  /** Rejections received on /user/queue/errors, in arrival order. */
  readonly errors: QueuedError[];
  /**
   * SUBSCRIBE to the room's stream, delivering into `log`. With `sinceSeq`, the server replays every later
   * stored event first. Resolves when the server confirms the SUBSCRIBE with a RECEIPT.
   */
  subscribeRoom(roomId: string, log: RoomLog, sinceSeq?: number): Promise<void>;
  /** SEND with a receipt; resolves with the RECEIPT's message-id and seq. */
  send(roomId: string, text: string, clientMsgId: string, timeoutMs?: number): Promise<Receipt>;
  /** DISCONNECT and wait for the close. */
  disconnect(): Promise<void>;
}

interface Pending {
  resolve(r: Receipt): void;
  reject(e: Error): void;
}

/** Connects and authenticates; rejects with the ERROR frame's code (or the close) if the server refuses. */
export function connectPeer(wsUrl: string, accessToken: string, node: string): Promise<StompPeer> {
  return new Promise((resolveConnect, rejectConnect) => {
    const errors: QueuedError[] = [];
    const pending = new Map<string, Pending>();
    let open = false;
    let errorCode: string | null = null;
    let resolveClosed: (info: CloseInfo) => void = () => {};
    const closed = new Promise<CloseInfo>((r) => {
      resolveClosed = r;
    });

    const stomp = new Client({
      webSocketFactory: () => new WebSocket(wsUrl, ["v12.stomp"]) as unknown as IStompSocket,
      connectHeaders: { Authorization: `Bearer ${accessToken}` },
      reconnectDelay: 0,
      heartbeatIncoming: 0,
      heartbeatOutgoing: 0,
      debug: () => {},
    });
    const timer = setTimeout(() => {
      rejectConnect(new Error(`CONNECT to ${node} not answered within ${CONNECT_TIMEOUT_MS} ms`));
      void stomp.deactivate();
    }, CONNECT_TIMEOUT_MS);

    const onQueuedError = (m: IMessage) => {
      const e: QueuedError = {
        code: m.headers.code ?? "(no code header)",
        receiptId: m.headers["receipt-id"] ?? null,
        body: m.body,
      };
      errors.push(e);
      if (e.receiptId !== null) {
        const p = pending.get(e.receiptId);
        if (p !== undefined) {
          pending.delete(e.receiptId);
          p.reject(new SendRejected(e.code));
        }
      }
    };
    stomp.onUnhandledMessage = (m) => {
      if (m.headers.destination === "/user/queue/errors") onQueuedError(m);
    };
    stomp.onStompError = (frame: IFrame) => {
      errorCode = frame.headers.code ?? frame.headers.message ?? "(ERROR without code)";
    };
    stomp.onWebSocketClose = (evt: { code?: number; reason?: string }) => {
      const info: CloseInfo = { code: evt.code ?? 0, reason: evt.reason ?? "", errorCode, at: Date.now() };
      if (!open) {
        clearTimeout(timer);
        rejectConnect(new Error(`connection to ${node} closed before CONNECTED (${errorCode ?? info.code})`));
      }
      open = false;
      for (const [id, p] of pending) {
        pending.delete(id);
        p.reject(new SendUnanswered(`connection to ${node} closed`));
      }
      resolveClosed(info);
      void stomp.deactivate();
    };

    stomp.onConnect = (frame: IFrame) => {
      clearTimeout(timer);
      open = true;
      stomp.subscribe("/user/queue/errors", onQueuedError, { id: "errq" });
      resolveConnect({
        node,
        connected: frame.headers,
        closed,
        isOpen: () => open,
        errors,
        subscribeRoom(roomId, log, sinceSeq) {
          return new Promise<void>((resolveSub, rejectSub) => {
            const receipt = `sub-${crypto.randomUUID()}`;
            const headers: StompHeaders = { receipt };
            if (sinceSeq !== undefined) headers["since-seq"] = String(sinceSeq);
            const t = setTimeout(() => rejectSub(new Error(`SUBSCRIBE on ${node} not confirmed`)), 5_000);
            stomp.watchForReceipt(receipt, () => {
              clearTimeout(t);
              resolveSub();
            });
            void closed.then(() => {
              clearTimeout(t);
              rejectSub(new Error(`connection to ${node} closed before SUBSCRIBE was confirmed`));
            });
            stomp.subscribe(`/sub/chat/room/${roomId}`, (m) => log.record(m.headers, m.body, node), headers);
          });
        },
        send(roomId, text, clientMsgId, timeoutMs = DEFAULT_SEND_TIMEOUT_MS) {
          if (!open) return Promise.reject(new SendUnanswered(`connection to ${node} is closed`));
          const receipt = `send-${crypto.randomUUID()}`;
          return new Promise<Receipt>((resolveSend, rejectSend) => {
            const t = setTimeout(() => {
              pending.delete(receipt);
              rejectSend(new SendUnanswered(`no RECEIPT from ${node} within ${timeoutMs} ms`));
            }, timeoutMs);
            pending.set(receipt, {
              resolve: (r) => {
                clearTimeout(t);
                resolveSend(r);
              },
              reject: (e) => {
                clearTimeout(t);
                rejectSend(e);
              },
            });
            stomp.watchForReceipt(receipt, (f: IFrame) => {
              const p = pending.get(receipt);
              if (p === undefined) return;
              pending.delete(receipt);
              const seq = Number(f.headers.seq);
              const messageId = f.headers["message-id"];
              if (messageId === undefined || !Number.isInteger(seq)) {
                p.reject(new Error(`RECEIPT without message-id/seq: ${JSON.stringify(f.headers)}`));
              } else {
                p.resolve({ messageId, seq });
              }
            });
            stomp.publish({
              destination: "/pub/message",
              headers: { receipt, "client-msg-id": clientMsgId, "content-type": "application/json" },
              body: JSON.stringify({ roomId, message: text }),
            });
          });
        },
        async disconnect() {
          if (open) await stomp.deactivate();
          await closed;
        },
      });
    };
    stomp.activate();
  });
}
