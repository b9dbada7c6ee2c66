/**
 * WebSocket clients for the profiling scripts, in their own process so that receiving does not share the
 * measured process's event loop: opens one socket per URL given on stdin (one per line, then an empty line),
 * prints "ready", counts every STOMP frame received and prints the count whenever a line arrives on stdin
 * ("count"), then exits when stdin closes. A WebSocket message may carry several frames (a room hub publishes
 * the events of one task or window together), so frames are counted by their NUL terminators.
 */
const decoder = new TextDecoder();
let buffered = "";
let received = 0;
const sockets: WebSocket[] = [];
let opening = true;

function framesIn(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\0"); i !== -1; i = text.indexOf("\0", i + 1)) n++;
  return Math.max(n, 1);
}

async function open(urls: string[]): Promise<void> {
  for (const url of urls) {
    const ws = new WebSocket(url);
    ws.onmessage = (e: MessageEvent) => {
      received += typeof e.data === "string" ? framesIn(e.data) : 1;
    };
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`socket to ${url} failed`));
    });
    sockets.push(ws);
  }
  console.log("ready");
}

const urls: string[] = [];
const reader = Bun.stdin.stream().getReader();
for (;;) {
  const { done, value } = await reader.read();
  if (done) break;
  buffered += decoder.decode(value);
  let nl = buffered.indexOf("\n");
  while (nl >= 0) {
    const line = buffered.slice(0, nl).trim();
    buffered = buffered.slice(nl + 1);
    if (opening) {
      if (line === "") {
        opening = false;
        await open(urls);
      } else {
        urls.push(line);
      }
    } else if (line === "count") {
      console.log(String(received));
    }
    nl = buffered.indexOf("\n");
  }
}
for (const ws of sockets) ws.close();
export {};
