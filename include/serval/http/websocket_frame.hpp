// WebSocket framing (RFC 6455 §5) and the permessage-deflate codec (RFC 7692), independent of
// sockets and coroutines: serval::WebSocket (app/websocket.hpp) and the TestClient are built on it.
//
// FrameParser looks at the start of a byte buffer and reports one frame at a time — or that it needs
// more bytes, or the close code the connection must fail with. It trusts nothing: reserved opcodes
// and bits, unmasked client frames, fragmented or oversized control frames, non-minimal lengths,
// continuation frames out of sequence and messages over the size limit are all errors, detected as
// as early as the bytes allow (a bad opcode from the first byte, a 2^62-byte length from the header,
// before any payload is buffered).
//
//   websocket::FrameParser parser({.expect_masked = true, .max_message_size = 1 << 20});
//   while (true) {
//     auto st = parser.parse(buffer);                      // buffer: bytes received, not yet consumed
//     if (st == websocket::FrameStatus::kNeedMore) break;
//     if (st == websocket::FrameStatus::kError) return fail(parser.error_code(), parser.error_reason());
//     const websocket::Frame& f = parser.frame();
//     std::string payload;
//     websocket::append_unmasked(payload, f.payload, f.mask);  // payload views point into `buffer`
//     buffer.remove_prefix(parser.consumed());
//   }
//
//   std::string out;
//   websocket::append_frame(out, websocket::Opcode::kText, "hello");   // a server frame (unmasked)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct z_stream_s;  // zlib

namespace serval::http::websocket {

enum class Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

constexpr bool is_control(Opcode op) noexcept { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }

// Close codes (RFC 6455 §7.4.1). 1005 and 1006 are never sent: they stand for "the close frame had
// no code" and "the connection dropped without a close frame".
inline constexpr int kCloseNormal = 1000;
inline constexpr int kCloseGoingAway = 1001;        // server shutting down, page navigated away
inline constexpr int kCloseProtocolError = 1002;
inline constexpr int kCloseUnsupportedData = 1003;
inline constexpr int kCloseNoStatus = 1005;
inline constexpr int kCloseAbnormal = 1006;
inline constexpr int kCloseInvalidPayload = 1007;   // text that is not UTF-8, undecodable deflate data
inline constexpr int kClosePolicyViolation = 1008;
inline constexpr int kCloseMessageTooBig = 1009;
inline constexpr int kCloseMandatoryExtension = 1010;
inline constexpr int kCloseInternalError = 1011;    // the handler threw; keep-alive timeout

// True for codes an endpoint may put in a close frame: 1000-1003, 1007-1011, 3000-4999.
bool is_valid_close_code(int code) noexcept;

// The largest control-frame payload and close reason (a close payload is a 2-byte code + reason).
inline constexpr std::size_t kMaxControlPayload = 125;
inline constexpr std::size_t kMaxCloseReason = 123;

using MaskKey = std::array<std::uint8_t, 4>;

struct Frame {
  bool fin = true;
  bool rsv1 = false;              // permessage-deflate: set on the first frame of a compressed message
  Opcode opcode = Opcode::kText;
  bool masked = false;
  MaskKey mask{};
  std::string_view payload;       // as on the wire (still masked); points into the parsed buffer
};

struct FrameLimits {
  // Server side: every client frame must be masked (§5.1). A client expects unmasked frames.
  bool expect_masked = true;
  // RSV1 is legal only when permessage-deflate was negotiated.
  bool allow_rsv1 = false;
  // Payload bytes of one message, summed over its fragments, as they arrive (compressed or not).
  std::uint64_t max_message_size = 1 << 20;
};

enum class FrameStatus { kNeedMore, kFrame, kError };

class FrameParser {
 public:
  explicit FrameParser(FrameLimits limits = {}) noexcept : limits_(limits) {}

  // Parses the frame at the start of `data`, which may hold less or more than one frame.
  //   kNeedMore: nothing consumed; call again with the same bytes and more.
  //   kFrame:    frame() describes it and its consumed() bytes; the message state advances, so the
  //              caller must move past those bytes before the next call.
  //   kError:    error_code() is 1002 (protocol) or 1009 (too big); sticky until reset().
  FrameStatus parse(std::string_view data) noexcept;

  const Frame& frame() const noexcept { return frame_; }
  std::size_t consumed() const noexcept { return consumed_; }
  int error_code() const noexcept { return error_code_; }
  std::string_view error_reason() const noexcept { return error_reason_; }
  // The size of the rejected frame (header + payload) when its length was already readable, so a
  // closing endpoint can skip it and keep reading frames; 0 when frame boundaries are lost.
  std::uint64_t error_frame_size() const noexcept { return error_frame_size_; }

  // A fragmented data message has begun and not finished.
  bool in_message() const noexcept { return in_message_; }

  const FrameLimits& limits() const noexcept { return limits_; }
  void set_limits(const FrameLimits& limits) noexcept { limits_ = limits; }
  // Forgets errors and message state (limits are kept).
  void reset() noexcept;

 private:
  FrameStatus fail(int code, const char* reason, std::uint64_t frame_size = 0) noexcept;

  FrameLimits limits_;
  Frame frame_;
  std::size_t consumed_ = 0;
  bool in_message_ = false;
  std::uint64_t message_bytes_ = 0;  // payload bytes of the fragments of the message in progress
  int error_code_ = 0;
  const char* error_reason_ = "";
  std::uint64_t error_frame_size_ = 0;
};

// XORs `n` bytes at `data` with the mask; `offset` is the position of data[0] in the payload.
void apply_mask(char* data, std::size_t n, const MaskKey& mask, std::size_t offset = 0) noexcept;
// Appends the unmasked payload to `out` (a plain append when the frame was not masked).
void append_unmasked(std::string& out, std::string_view payload, const MaskKey& mask, bool masked = true);

// Appends one frame. Servers send unmasked frames (`mask == nullptr`); clients pass a fresh key.
void append_frame(std::string& out, Opcode opcode, std::string_view payload, bool fin = true, bool rsv1 = false,
                  const MaskKey* mask = nullptr);
// Appends a close frame: no payload for 1005, else the code and the reason (cut to 123 bytes on a
// UTF-8 boundary).
void append_close_frame(std::string& out, int code, std::string_view reason, const MaskKey* mask = nullptr);
// The header size of a frame with this payload length.
std::size_t frame_header_size(std::uint64_t payload_size, bool masked) noexcept;

struct ClosePayload {
  int code = kCloseNoStatus;
  std::string_view reason;
};
// Validates an (unmasked) close payload: empty means 1005; otherwise a valid code and a UTF-8 reason.
// Returns 0, or the close code to fail with (1002 bad length or code, 1007 reason not UTF-8).
int parse_close_payload(std::string_view payload, ClosePayload& out) noexcept;

// Incremental UTF-8 validation (RFC 3629: no overlongs, surrogates or code points above U+10FFFF),
// so a text message split in fragments fails on the first bad byte.
class Utf8Validator {
 public:
  // False once the bytes seen so far cannot be the start of valid UTF-8 (sticky until reset()).
  bool feed(std::string_view bytes) noexcept;
  // The bytes so far are complete, valid UTF-8 (no sequence cut short).
  bool complete() const noexcept { return !invalid_ && need_ == 0; }
  void reset() noexcept { *this = Utf8Validator{}; }

 private:
  std::uint8_t need_ = 0;   // continuation bytes still expected
  std::uint8_t lo_ = 0x80;  // allowed range of the next continuation byte
  std::uint8_t hi_ = 0xBF;
  bool invalid_ = false;
};
bool is_valid_utf8(std::string_view bytes) noexcept;

// permessage-deflate (RFC 7692): raw DEFLATE per message with the trailing 00 00 ff ff removed.
// Compresses one message at a time; with context takeover the window carries across messages.
class Deflater {
 public:
  // window_bits 9..15 (8 is not supported by zlib's raw deflate); mem_level 1..9 trades memory for ratio.
  explicit Deflater(int window_bits = 15, bool no_context_takeover = false, int mem_level = 8);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // Appends the compressed message to `out`. False on a zlib failure (out of memory).
  bool compress(std::string_view message, std::string& out);

 private:
  std::unique_ptr<z_stream_s> z_;
  bool no_context_takeover_;
  bool ok_ = false;
};

class Inflater {
 public:
  enum class Result { kOk, kTooBig, kError };

  // The peer's window may be anything up to 15 bits; `no_context_takeover`: reset after each message.
  explicit Inflater(bool no_context_takeover = false);
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Appends the decompressed bytes of one fragment to `out`; kTooBig when `out` would exceed `max_size`.
  Result inflate(std::string_view compressed, std::string& out, std::size_t max_size);
  // Ends the message (feeds the removed 00 00 ff ff tail) and prepares for the next one.
  Result finish(std::string& out, std::size_t max_size);

 private:
  Result run(const unsigned char* data, std::size_t size, std::string& out, std::size_t max_size);

  std::unique_ptr<z_stream_s> z_;
  bool no_context_takeover_;
  bool ok_ = false;
  bool stream_end_ = false;  // the peer ended the DEFLATE stream (BFINAL): restart at the next message
};

}  // namespace serval::http::websocket
