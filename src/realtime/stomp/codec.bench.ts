/**
 * Throughput of the hot codec paths, printed as operations per second. Run: `bun src/realtime/stomp/codec.bench.ts`.
 * Numbers are for comparison between changes on one machine, not guarantees.
 */
import { StompDecoder } from "./decoder.ts";
import { encodeFrame } from "./encoder.ts";
import type { StompHeader } from "./frame.ts";
import { encodeMessageTemplate } from "./message-template.ts";

const headers: StompHeader[] = [
  ["destination", "/sub/chat/room/01J8ZQ4M3V7K2N5P6R8S9T0W1X"],
  ["content-type", "application/json"],
  ["message-id", "01J8ZQ4M3V7K2N5P6R8S9T0W1Y"],
  ["seq", "123456"],
];
const body = JSON.stringify({
  roomId: "01J8ZQ4M3V7K2N5P6R8S9T0W1X",
  seq: 123456,
  senderId: "01J8ZQ4M3V7K2N5P6R8S9T0W1Z",
  message: "hello, this is a fairly ordinary chat message",
});

function measure(name: string, opsPerCall: number, fn: () => void): void {
  for (let k = 0; k < 2_000; k++) fn();
  let calls = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < 500) {
    for (let k = 0; k < 200; k++) fn();
    calls += 200;
    elapsed = performance.now() - started;
  }
  const perSecond = (calls * opsPerCall * 1000) / elapsed;
  console.log(`${name.padEnd(58)} ${Math.round(perSecond).toLocaleString("en-US").padStart(12)} /s`);
}

let sink = 0;
const ids = Array.from({ length: 64 }, (_, k) => `sub-${k}`);

measure("encodeFrame MESSAGE (5 headers, 150 B JSON body)", 1, () => {
  sink += encodeFrame("MESSAGE", [["subscription", "sub-0"], ...headers], body).length;
});
const template = encodeMessageTemplate(headers, body);
let next = 0;
measure("template.forSubscription (same frame, per subscriber)", 1, () => {
  sink += template.forSubscription(ids[next++ & 63]!).length;
});
measure("encodeMessageTemplate + 8 subscribers (one room event)", 8, () => {
  const t = encodeMessageTemplate(headers, body);
  for (let k = 0; k < 8; k++) sink += t.forSubscription(ids[k]!).length;
});

const send = encodeFrame(
  "SEND",
  [
    ["destination", "/pub/message"],
    ["client-msg-id", "c-123"],
    ["receipt", "r-9"],
  ],
  body,
);
const decoder = new StompDecoder();
measure("decode SEND frames, one per push", 1, () => {
  sink += decoder.push(send).frames.length;
});
const message = template.forSubscription("sub-0");
const batch = new Uint8Array(message.length * 100);
for (let k = 0; k < 100; k++) batch.set(message, k * message.length);
const clientSide = new StompDecoder({}, "1.2", "server");
measure("decode MESSAGE frames, 100 per push", 100, () => {
  sink += clientSide.push(batch).frames.length;
});
const sendText = new TextDecoder().decode(send);
measure("decode SEND frames given as strings", 1, () => {
  sink += decoder.push(sendText).frames.length;
});
const bytes = Array.from(send, (b) => Uint8Array.of(b));
measure("decode SEND frames arriving one byte per push", 1, () => {
  for (const b of bytes) sink += decoder.push(b).frames.length;
});
if (sink === 0) console.log("unreachable");
