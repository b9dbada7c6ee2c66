/**
 * The Socket.IO 4 peer, on Node as a Socket.IO deployment usually runs: same rooms and message size as the STOMP
 * runs. `join` (acknowledged) puts the socket in room `r<n>`; `send` assigns the room's seq and emits
 * `m(room, seq, text)` to the room, which Socket.IO encodes once per broadcast. WebSocket transport only.
 *
 * `node bench/peers/socketio-server.mjs [port]` prints `listening <port>` when ready.
 */
import { createServer } from "node:http";
import { Server } from "socket.io";

const http = createServer();
const io = new Server(http, { transports: ["websocket"], serveClient: false, perMessageDeflate: false });
const seqs = new Map();

io.on("connection", (socket) => {
  socket.on("join", (room, ack) => {
    socket.join(`r${room}`);
    if (typeof ack === "function") ack();
  });
  socket.on("send", (room, text) => {
    const seq = (seqs.get(room) ?? 0) + 1;
    seqs.set(room, seq);
    io.to(`r${room}`).emit("m", room, seq, text);
  });
});

http.listen(Number(process.argv[2] ?? 0), "0.0.0.0", () => {
  console.log(`listening ${http.address().port}`);
});
process.on("SIGTERM", () => {
  io.close();
  process.exit(0);
});
