// ws_echo: the smallest WebSocket server in serval (see docs/websockets.md).
//
//   WS  /ws/echo   every text and binary message comes back as it was sent; permessage-deflate
//                  when the client offers it; messages over 1 MiB close the connection with 1009
//   GET /health    {"status":"ok"} (built in)
//
//   build/bin/ws_echo --host 127.0.0.1 --port 8000 --threads 2
//   node -e "const ws = new (require('ws'))('ws://127.0.0.1:8000/ws/echo');
//            ws.on('open', () => ws.send('hi')); ws.on('message', m => { console.log(String(m)); ws.close(); })"
#include <serval/serval.hpp>

namespace {

serval::Task<void> echo(serval::WebSocket& ws) {
  while (auto msg = co_await ws.receive()) {
    if (msg->binary) {
      co_await ws.send_binary(msg->data);
    } else {
      co_await ws.send_text(msg->data);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  serval::App app{{.title = "WebSocket echo"}};
  app.websocket("/ws/echo", echo, {.summary = "Echo every message"});
  return app.run(argc, argv);
}
