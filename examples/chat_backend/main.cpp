// chat_backend: everything a FastAPI user reaches for after the first endpoint, in one serval app.
//
//   GET  /me          bearer JWT (HS256, --jwt-secret) with scope me:read -> {"sub":..,"scopes":[..]}
//   POST /echo        needs X-API-Key (--api-keys), rate-limited per key (--rate-limit) -> the JSON body
//   GET  /events?n=N  N Server-Sent Events, 10 ms apart; a client that leaves stops the producer
//   GET  /stats       {"streams_started":..,"streams_cancelled":..,"background_done":..,"background_failed":..}
//   POST /notes       202 at once; the note is appended by a background task; GET /notes lists them
//   WS   /ws/echo     echoes every message
//   CORS for --cors-origin; X-Request-ID on every response; --access-log for JSON access lines.
//
//   build/bin/chat_backend --port 8000 --jwt-secret s3cret --api-keys k1,k2 --rate-limit 10/minute
//       --cors-origin http://localhost:3000
#include <serval/serval.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

struct Me {
  std::string sub;
  std::vector<std::string> scopes;
};
template <>
inline constexpr auto serval::schema<Me> =
    serval::fields(serval::field("sub", &Me::sub), serval::field("scopes", &Me::scopes));

struct Stats {
  long long streams_started = 0;
  long long streams_cancelled = 0;
  long long background_done = 0;
  long long background_failed = 0;
};
template <>
inline constexpr auto serval::schema<Stats> = serval::fields(
    serval::field("streams_started", &Stats::streams_started),
    serval::field("streams_cancelled", &Stats::streams_cancelled).doc("Streams stopped because the client left"),
    serval::field("background_done", &Stats::background_done),
    serval::field("background_failed", &Stats::background_failed));

struct NoteIn {
  std::string text;
};
template <>
inline constexpr auto serval::schema<NoteIn> =
    serval::fields(serval::field("text", &NoteIn::text).min_length(1).max_length(2000));

struct Accepted {
  std::string status;
};
template <>
inline constexpr auto serval::schema<Accepted> = serval::fields(serval::field("status", &Accepted::status));

namespace {

struct Counters {
  std::atomic<long long> streams_started{0};
  std::atomic<long long> streams_cancelled{0};
  std::mutex notes_mu;
  std::vector<std::string> notes;
};

// Counts a stream as cancelled when its producer is destroyed before it finished.
struct StreamGuard {
  Counters* counters;
  bool finished = false;
  ~StreamGuard() {
    if (!finished) counters->streams_cancelled.fetch_add(1);
  }
};

serval::AsyncGenerator<serval::Event> tick_events(Counters* counters, int n) {
  counters->streams_started.fetch_add(1);
  StreamGuard guard{counters};
  for (int i = 0; i < n; ++i) {
    if (i > 0) co_await serval::sleep_for(std::chrono::milliseconds(10));
    serval::Event e{.data = "{\"index\":" + std::to_string(i) + "}", .event = "tick", .id = std::to_string(i)};
    co_yield std::move(e);
  }
  guard.finished = true;
}

serval::Task<void> echo(serval::WebSocket& ws) {
  while (true) {
    std::optional<serval::WsMessage> msg = co_await ws.receive();
    if (!msg) break;
    if (msg->binary) {
      co_await ws.send_binary(std::move(msg->data));
    } else {
      co_await ws.send_text(std::move(msg->data));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string jwt_secret, rate_limit = "10/minute";
  std::vector<std::string> api_keys, cors_origins;
  bool access_log = false;
  serval::CliOptions cli;
  cli.add("--jwt-secret", &jwt_secret, "HMAC secret that signs bearer tokens (HS256); required");
  cli.add("--api-keys", &api_keys, "comma-separated API keys accepted by POST /echo; required");
  cli.add("--rate-limit", &rate_limit, "requests per API key on POST /echo, e.g. 10/minute");
  cli.add("--cors-origin", &cors_origins, "comma-separated origins allowed by CORS");
  cli.add("--access-log", &access_log, "write one JSON access-log line per request to stderr");
  cli.check([&] { return jwt_secret.empty() ? std::string("--jwt-secret is required") : std::string(); });
  cli.check([&] { return api_keys.empty() ? std::string("--api-keys is required") : std::string(); });
  serval::net::ServerOptions options;
  if (auto rc = serval::parse_command_line(argc, argv, cli, options)) return *rc;

  try {
    Counters counters;
    serval::App app{{.title = "Chat backend", .version = "1.0.0",
                     .description = "Auth, rate limits, CORS, streaming, background tasks and WebSockets."}};

    app.use(std::make_shared<serval::RequestId>());
    if (access_log) app.use(std::make_shared<serval::AccessLog>());
    if (!cors_origins.empty()) {
      app.use(std::make_shared<serval::Cors>(serval::CorsOptions{.allow_origins = cors_origins,
                                                                 .allow_methods = {"*"},
                                                                 .allow_headers = {"*"},
                                                                 .expose_headers = {"X-Request-ID"},
                                                                 .allow_credentials = true}));
    }

    serval::BearerAuth bearer{serval::JwtVerifier::hs256(jwt_secret)};
    std::vector<serval::ApiKey> keys(api_keys.begin(), api_keys.end());
    serval::ApiKeyAuth api_key{{.keys = keys}};
    auto per_key_limit = std::make_shared<serval::RateLimit>(
        serval::RateLimitOptions{.limit = rate_limit, .key = serval::KeyBy::kApiKey});

    app.get("/me", [](const serval::Principal& me) { return Me{me.subject, me.scopes}; },
            {.summary = "Who am I (needs scope me:read)", .tags = {"auth"}, .middleware = {bearer.require({"me:read"})}});

    app.post("/echo", [](serval::Body<boost::json::value> body) { return *body; },
             {.summary = "Echo the JSON body (API key, rate-limited per key)",
              .tags = {"demo"},
              .middleware = {api_key.require(), per_key_limit}});

    app.get("/events", [&counters](serval::Query<int, "n", serval::rules().ge(1).le(100000)> n) {
      return serval::EventStream(tick_events(&counters, *n));
    }, {.summary = "Stream N events, 10 ms apart", .tags = {"demo"}});

    app.get("/stats", [&counters, &app] {
      auto bg = app.background_pool().stats();
      return Stats{counters.streams_started.load(), counters.streams_cancelled.load(),
                   static_cast<long long>(bg.done), static_cast<long long>(bg.failed)};
    }, {.summary = "Counters", .tags = {"ops"}});

    app.post("/notes", [&counters](const NoteIn& note, serval::BackgroundTasks& bg) {
      bg.add([&counters, text = note.text] {
        if (text == "fail") throw std::runtime_error("note rejected by the background task");
        std::lock_guard lock(counters.notes_mu);
        counters.notes.push_back(text);
      });
      return Accepted{"accepted"};
    }, {.summary = "Store a note after answering", .tags = {"demo"}, .status = 202});

    app.get("/notes", [&counters] {
      std::lock_guard lock(counters.notes_mu);
      return counters.notes;
    }, {.summary = "Notes stored so far", .tags = {"demo"}});

    app.websocket("/ws/echo", echo, {.summary = "Echo every message"});

    return app.run(std::move(options));
  } catch (const std::exception& e) {  // a bad --jwt-secret or --rate-limit: say so, exit 2
    std::fprintf(stderr, "chat_backend: %s\n", e.what());
    return 2;
  }
}
