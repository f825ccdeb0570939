// Talks to a serval WebSocket echo route with an independent client, the npm package `ws` (v8), and
// prints what it saw as one JSON object on stdout:
//
//   node ws_client.mjs ws://127.0.0.1:PORT/ws/echo   -> exit 0 and {"deflate_negotiated": true, "text_echo": true, ...}
//                                                       exit 2 on usage/set-up error, 1 if the script broke
//   node ws_client.mjs URL --hold                    -> prints {"open": ...} once connected, then waits for
//                                                       the server to close and prints {"close": {code, reason}}
//
// Checks: permessage-deflate negotiated (and turned off when the client does not offer it), text
// (UTF-8) and binary echo, large messages both compressible and not, ping/pong, order of a burst,
// the close handshake (1000 echoed), and a 2 MB message answered with close 1009 (compressible and
// not: one hits the decompression bound, the other the frame-length check).
//
// `ws` is installed by scripts/setup.sh into ${SERVAL_CACHE:-$HOME/.cache/serval}/node (outside the
// clone); SERVAL_NODE_MODULES may point at another node_modules directory.
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

const url = process.argv[2];
if (!url) {
  console.error("usage: node ws_client.mjs ws://HOST:PORT/PATH");
  process.exit(2);
}
const cache = process.env.SERVAL_CACHE || path.join(homedir(), ".cache", "serval");
const modules = process.env.SERVAL_NODE_MODULES || path.join(cache, "node", "node_modules");
if (!existsSync(path.join(modules, "ws"))) {
  console.error(`ws not found in ${modules}: run scripts/setup.sh`);
  process.exit(2);
}
const require = createRequire(path.join(modules, "..", "package.json"));
const WebSocket = require("ws");

const STEP_TIMEOUT_MS = 10000;

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), STEP_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// One connection with a message queue, so no message is missed between awaits.
class Conn {
  static open(options = {}) {
    return withTimeout(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url, options);
        const conn = new Conn(ws);
        ws.once("open", () => resolve(conn));
        ws.once("error", reject);
      }),
      "open",
    );
  }

  constructor(ws) {
    this.ws = ws;
    this.queue = [];
    this.waiters = [];
    this.closeInfo = null;
    ws.on("error", () => {});  // a reset after close 1009 is expected; 'close' still reports the code
    ws.on("message", (data, isBinary) => {
      const m = { data: Buffer.isBuffer(data) ? data : Buffer.concat(data), isBinary };
      const w = this.waiters.shift();
      if (w) w.resolve(m);
      else this.queue.push(m);
    });
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        for (const w of this.waiters.splice(0)) w.reject(new Error(`closed with ${code}`));
        resolve(this.closeInfo);
      });
    });
  }

  next() {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.closeInfo) return Promise.reject(new Error(`closed with ${this.closeInfo.code}`));
    return withTimeout(new Promise((resolve, reject) => this.waiters.push({ resolve, reject })), "message");
  }

  async echo(payload, binary) {
    this.ws.send(payload, { binary });
    const m = await this.next();
    const expected = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, "utf8");
    return m.isBinary === binary && m.data.equals(expected);
  }

  close(code, reason) {
    this.ws.close(code, reason);
    return withTimeout(this.closed, "close");
  }
}

// Stays connected until the server says goodbye (for the drain test: SIGTERM must close with 1001).
async function hold() {
  const conn = await Conn.open();
  console.log(JSON.stringify({ open: true, extensions: conn.ws.extensions }));
  const info = await conn.closed;
  console.log(JSON.stringify({ close: info }));
}

async function main() {
  if (process.argv[3] === "--hold") return hold();
  const results = {};

  // permessage-deflate on (the ws default offer: "permessage-deflate; client_max_window_bits").
  const a = await Conn.open();
  results.extensions = a.ws.extensions;
  results.deflate_negotiated = a.ws.extensions.includes("permessage-deflate");
  results.text_echo = await a.echo("hello, serval: héllo wörld ✓ 🙂", false);
  results.binary_echo = await a.echo(Buffer.from([0, 1, 2, 127, 128, 254, 255]), true);
  results.empty_echo = await a.echo("", false);
  results.compressible_200k_echo = await a.echo("the quick brown fox jumps over the lazy dog ".repeat(5000), false);
  results.random_512k_echo = await a.echo(randomBytes(512 * 1024), true);
  results.ping_pong = await withTimeout(
    new Promise((resolve) => {
      a.ws.once("pong", (data) => resolve(data.toString() === "are you there"));
      a.ws.ping("are you there");
    }),
    "pong",
  );
  for (let i = 0; i < 100; i++) a.ws.send(`message ${i}`);
  let inOrder = true;
  for (let i = 0; i < 100; i++) inOrder = inOrder && (await a.next()).data.toString() === `message ${i}`;
  results.burst_in_order = inOrder;
  results.normal_close = await a.close(1000, "done");

  // Without the offer, no extension (and echo still works).
  const plain = await Conn.open({ perMessageDeflate: false });
  results.plain_extensions = plain.ws.extensions;
  results.plain_echo = await plain.echo("x".repeat(3000), false);
  results.custom_close = await plain.close(4000, "custom");

  // 2 MB messages over the 1 MiB limit: the server closes with 1009.
  const big = await Conn.open();
  big.ws.send(randomBytes(2 * 1024 * 1024), { binary: true });
  results.too_big_random = await withTimeout(big.closed, "close after a 2 MB random message");
  const bigText = await Conn.open();
  bigText.ws.send("a".repeat(2 * 1024 * 1024));
  results.too_big_compressible = await withTimeout(bigText.closed, "close after a 2 MB compressible message");
  const bigPlain = await Conn.open({ perMessageDeflate: false });
  bigPlain.ws.send(Buffer.alloc(2 * 1024 * 1024, 7), { binary: true });
  results.too_big_uncompressed = await withTimeout(bigPlain.closed, "close after a 2 MB uncompressed message");

  // After all that, the server still serves.
  const last = await Conn.open();
  results.still_serving = await last.echo("still here", false);
  await last.close(1000, "");

  console.log(JSON.stringify(results));
}

main().catch((e) => {
  console.error(`ws_client: ${e.stack || e}`);
  process.exit(1);
});
