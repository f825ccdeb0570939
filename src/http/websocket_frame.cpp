#include "serval/http/websocket_frame.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace serval::http::websocket {

namespace {

std::uint8_t byte_at(std::string_view s, std::size_t i) noexcept { return static_cast<std::uint8_t>(s[i]); }

bool known_opcode(std::uint8_t op) noexcept {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

}  // namespace

bool is_valid_close_code(int code) noexcept {
  // 1012-1014 are registered with IANA since RFC 6455 (service restart, try again later, bad gateway).
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

// --- parsing --------------------------------------------------------------------------------------

void FrameParser::reset() noexcept {
  frame_ = Frame{};
  consumed_ = 0;
  in_message_ = false;
  message_bytes_ = 0;
  error_code_ = 0;
  error_reason_ = "";
  error_frame_size_ = 0;
}

FrameStatus FrameParser::fail(int code, const char* reason, std::uint64_t frame_size) noexcept {
  error_code_ = code;
  error_reason_ = reason;
  error_frame_size_ = frame_size;
  return FrameStatus::kError;
}

FrameStatus FrameParser::parse(std::string_view data) noexcept {
  if (error_code_ != 0) return FrameStatus::kError;
  if (data.size() < 2) return FrameStatus::kNeedMore;
  const std::uint8_t b0 = byte_at(data, 0);
  const std::uint8_t b1 = byte_at(data, 1);
  const bool fin = (b0 & 0x80) != 0;
  const bool rsv1 = (b0 & 0x40) != 0;
  const bool rsv23 = (b0 & 0x30) != 0;
  const std::uint8_t op = b0 & 0x0F;
  const bool masked = (b1 & 0x80) != 0;
  const std::uint8_t len7 = b1 & 0x7F;
  const std::size_t length_bytes = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  const std::size_t header = 2 + length_bytes + (masked ? 4 : 0);

  // The payload length once its bytes are in (kNoLength before, or when it is malformed).
  constexpr std::uint64_t kNoLength = ~std::uint64_t{0};
  const auto length = [&]() -> std::uint64_t {
    if (data.size() < 2 + length_bytes) return kNoLength;
    std::uint64_t len = len7;
    if (length_bytes != 0) {
      len = 0;
      for (std::size_t i = 2; i < 2 + length_bytes; ++i) len = (len << 8) | byte_at(data, i);
    }
    return len;
  };
  // The whole frame's size, when known: a closing endpoint can then skip a rejected frame.
  const auto frame_size = [&]() -> std::uint64_t {
    const std::uint64_t len = length();
    return len == kNoLength || (len >> 63) != 0 ? 0 : header + len;
  };

  // What the first two bytes can tell, at once (garbage fails fast).
  if (!known_opcode(op)) return fail(kCloseProtocolError, "reserved opcode", frame_size());
  if (rsv23) return fail(kCloseProtocolError, "reserved bits set without a negotiated extension", frame_size());
  const Opcode opcode = static_cast<Opcode>(op);
  if (masked != limits_.expect_masked)
    return fail(kCloseProtocolError, masked ? "server frames must not be masked" : "client frames must be masked",
                frame_size());
  if (is_control(opcode)) {
    if (!fin) return fail(kCloseProtocolError, "fragmented control frame", frame_size());
    if (len7 > kMaxControlPayload) return fail(kCloseProtocolError, "control frame payload over 125 bytes");
    if (rsv1) return fail(kCloseProtocolError, "RSV1 set on a control frame", frame_size());
  } else if (opcode == Opcode::kContinuation) {
    if (!in_message_) return fail(kCloseProtocolError, "continuation frame without a message to continue", frame_size());
    if (rsv1) return fail(kCloseProtocolError, "RSV1 set on a continuation frame", frame_size());
  } else {
    if (in_message_) return fail(kCloseProtocolError, "new message before the previous one finished", frame_size());
    if (rsv1 && !limits_.allow_rsv1) return fail(kCloseProtocolError, "RSV1 set without a negotiated extension", frame_size());
  }

  const std::uint64_t len = length();
  if (len == kNoLength) return FrameStatus::kNeedMore;
  if (length_bytes == 2 && len < 126) return fail(kCloseProtocolError, "non-minimal payload length");
  if (length_bytes == 8) {
    if ((len >> 63) != 0) return fail(kCloseProtocolError, "payload length has the most significant bit set");
    if (len <= 0xFFFF) return fail(kCloseProtocolError, "non-minimal payload length");
  }
  // header <= 14 and len < 2^63: no overflow.
  const std::uint64_t size = header + len;
  // message_bytes_ never exceeds the limit, so the subtraction cannot wrap.
  if (!is_control(opcode) && (len > limits_.max_message_size || message_bytes_ > limits_.max_message_size - len))
    return fail(kCloseMessageTooBig, "message too big", size);
  if (data.size() < size) return FrameStatus::kNeedMore;

  frame_.fin = fin;
  frame_.rsv1 = rsv1;
  frame_.opcode = opcode;
  frame_.masked = masked;
  if (masked) {
    for (std::size_t i = 0; i < 4; ++i) frame_.mask[i] = byte_at(data, header - 4 + i);
  } else {
    frame_.mask = {};
  }
  frame_.payload = data.substr(header, static_cast<std::size_t>(len));
  consumed_ = static_cast<std::size_t>(size);
  if (!is_control(opcode)) {
    if (fin) {
      in_message_ = false;
      message_bytes_ = 0;
    } else {
      in_message_ = true;
      message_bytes_ += len;
    }
  }
  return FrameStatus::kFrame;
}

// --- masking and serialising ----------------------------------------------------------------------

void apply_mask(char* data, std::size_t n, const MaskKey& mask, std::size_t offset) noexcept {
  std::size_t i = 0;
  // Eight bytes at a time with the key rotated to this offset.
  if (n >= 16) {
    unsigned char key8[8];
    for (std::size_t k = 0; k < 8; ++k) key8[k] = mask[(offset + k) & 3];
    std::uint64_t key;
    std::memcpy(&key, key8, 8);
    for (; i + 8 <= n; i += 8) {
      std::uint64_t v;
      std::memcpy(&v, data + i, 8);
      v ^= key;
      std::memcpy(data + i, &v, 8);
    }
  }
  for (; i < n; ++i) data[i] = static_cast<char>(static_cast<std::uint8_t>(data[i]) ^ mask[(offset + i) & 3]);
}

void append_unmasked(std::string& out, std::string_view payload, const MaskKey& mask, bool masked) {
  const std::size_t start = out.size();
  out.append(payload);
  if (masked) apply_mask(out.data() + start, payload.size(), mask);
}

std::size_t frame_header_size(std::uint64_t payload_size, bool masked) noexcept {
  std::size_t n = payload_size < 126 ? 2 : payload_size <= 0xFFFF ? 4 : 10;
  return masked ? n + 4 : n;
}

void append_frame(std::string& out, Opcode opcode, std::string_view payload, bool fin, bool rsv1, const MaskKey* mask) {
  const std::uint64_t len = payload.size();
  out.reserve(out.size() + frame_header_size(len, mask != nullptr) + payload.size());
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | static_cast<std::uint8_t>(opcode)));
  const std::uint8_t mask_bit = mask != nullptr ? 0x80 : 0;
  if (len < 126) {
    out.push_back(static_cast<char>(mask_bit | len));
  } else if (len <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(len >> 8));
    out.push_back(static_cast<char>(len & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((len >> shift) & 0xFF));
  }
  if (mask != nullptr) {
    for (std::uint8_t b : *mask) out.push_back(static_cast<char>(b));
    append_unmasked(out, payload, *mask, true);  // XOR is its own inverse
  } else {
    out.append(payload);
  }
}

void append_close_frame(std::string& out, int code, std::string_view reason, const MaskKey* mask) {
  if (code == kCloseNoStatus) {
    append_frame(out, Opcode::kClose, {}, true, false, mask);
    return;
  }
  if (reason.size() > kMaxCloseReason) {
    std::size_t cut = kMaxCloseReason;
    while (cut > 0 && (byte_at(reason, cut) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 sequence
    reason = reason.substr(0, cut);
  }
  char payload[2 + kMaxCloseReason];
  payload[0] = static_cast<char>((code >> 8) & 0xFF);
  payload[1] = static_cast<char>(code & 0xFF);
  if (!reason.empty()) std::memcpy(payload + 2, reason.data(), reason.size());
  append_frame(out, Opcode::kClose, {payload, 2 + reason.size()}, true, false, mask);
}

int parse_close_payload(std::string_view payload, ClosePayload& out) noexcept {
  out = ClosePayload{};
  if (payload.empty()) return 0;
  if (payload.size() == 1) return kCloseProtocolError;
  const int code = (byte_at(payload, 0) << 8) | byte_at(payload, 1);
  if (!is_valid_close_code(code)) return kCloseProtocolError;
  std::string_view reason = payload.substr(2);
  if (!is_valid_utf8(reason)) return kCloseInvalidPayload;
  out.code = code;
  out.reason = reason;
  return 0;
}

// --- UTF-8 ----------------------------------------------------------------------------------------

bool Utf8Validator::feed(std::string_view bytes) noexcept {
  if (invalid_) return false;
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    if (need_ == 0) {
      // ASCII runs, eight bytes at a time.
      while (i + 8 <= n) {
        std::uint64_t v;
        std::memcpy(&v, p + i, 8);
        if ((v & 0x8080808080808080ULL) != 0) break;
        i += 8;
      }
      if (i >= n) break;
      const std::uint8_t b = p[i++];
      if (b < 0x80) continue;
      if (b >= 0xC2 && b <= 0xDF) {
        need_ = 1;
        lo_ = 0x80, hi_ = 0xBF;
      } else if (b == 0xE0) {
        need_ = 2;
        lo_ = 0xA0, hi_ = 0xBF;  // no overlong 3-byte forms
      } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
        need_ = 2;
        lo_ = 0x80, hi_ = 0xBF;
      } else if (b == 0xED) {
        need_ = 2;
        lo_ = 0x80, hi_ = 0x9F;  // no UTF-16 surrogates
      } else if (b == 0xF0) {
        need_ = 3;
        lo_ = 0x90, hi_ = 0xBF;  // no overlong 4-byte forms
      } else if (b >= 0xF1 && b <= 0xF3) {
        need_ = 3;
        lo_ = 0x80, hi_ = 0xBF;
      } else if (b == 0xF4) {
        need_ = 3;
        lo_ = 0x80, hi_ = 0x8F;  // nothing above U+10FFFF
      } else {
        invalid_ = true;
        return false;
      }
    } else {
      const std::uint8_t b = p[i++];
      if (b < lo_ || b > hi_) {
        invalid_ = true;
        return false;
      }
      lo_ = 0x80, hi_ = 0xBF;
      --need_;
    }
  }
  return true;
}

bool is_valid_utf8(std::string_view bytes) noexcept {
  Utf8Validator v;
  return v.feed(bytes) && v.complete();
}

// --- permessage-deflate ---------------------------------------------------------------------------

namespace {
constexpr unsigned char kDeflateTail[4] = {0x00, 0x00, 0xFF, 0xFF};
constexpr std::size_t kInflateChunk = 16 * 1024;
}  // namespace

Deflater::Deflater(int window_bits, bool no_context_takeover, int mem_level)
    : z_(std::make_unique<z_stream_s>()), no_context_takeover_(no_context_takeover) {
  window_bits = std::clamp(window_bits, 9, 15);
  mem_level = std::clamp(mem_level, 1, 9);
  ok_ = deflateInit2(z_.get(), Z_DEFAULT_COMPRESSION, Z_DEFLATED, -window_bits, mem_level, Z_DEFAULT_STRATEGY) == Z_OK;
}

Deflater::~Deflater() {
  if (ok_) deflateEnd(z_.get());
}

bool Deflater::compress(std::string_view message, std::string& out) {
  if (!ok_) return false;
  const std::size_t start = out.size();
  // zlib counts in uInt: very large messages go in pieces, the last one with the sync flush.
  constexpr std::size_t kPiece = std::size_t{1} << 30;
  std::size_t offset = 0;
  do {
    const std::size_t n = std::min(message.size() - offset, kPiece);
    const bool last = offset + n == message.size();
    z_->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data() + offset));
    z_->avail_in = static_cast<uInt>(n);
    // deflateBound plus room for the sync-flush marker: usually a single pass.
    std::size_t chunk = deflateBound(z_.get(), static_cast<uLong>(n)) + 16;
    do {
      const std::size_t old = out.size();
      out.resize(old + chunk);
      z_->next_out = reinterpret_cast<Bytef*>(out.data() + old);
      z_->avail_out = static_cast<uInt>(chunk);
      const int rc = deflate(z_.get(), last ? Z_SYNC_FLUSH : Z_NO_FLUSH);
      out.resize(old + chunk - z_->avail_out);
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        out.resize(start);
        return false;
      }
      chunk = 16 * 1024;
    } while (z_->avail_out == 0);  // zlib: call again while it fills the whole output buffer
    offset += n;
  } while (offset < message.size());
  // RFC 7692 §7.2.1: drop the 00 00 ff ff that ends every sync flush.
  if (out.size() - start >= 4 && std::memcmp(out.data() + out.size() - 4, kDeflateTail, 4) == 0) out.resize(out.size() - 4);
  if (no_context_takeover_) deflateReset(z_.get());
  return true;
}

Inflater::Inflater(bool no_context_takeover)
    : z_(std::make_unique<z_stream_s>()), no_context_takeover_(no_context_takeover) {
  ok_ = inflateInit2(z_.get(), -15) == Z_OK;
}

Inflater::~Inflater() {
  if (ok_) inflateEnd(z_.get());
}

Inflater::Result Inflater::run(const unsigned char* data, std::size_t size, std::string& out, std::size_t max_size) {
  if (!ok_) return Result::kError;
  if (stream_end_) return Result::kOk;  // bytes after a final block carry nothing
  max_size = std::min(max_size, SIZE_MAX - 1);
  z_->next_in = const_cast<Bytef*>(data);
  z_->avail_in = static_cast<uInt>(size);
  while (true) {
    if (out.size() > max_size) return Result::kTooBig;
    // One byte of room past the limit tells "exactly the limit" from "over it".
    const std::size_t room = max_size + 1 - out.size();
    const std::size_t chunk = std::min(room, std::max(kInflateChunk, out.size()));
    const std::size_t old = out.size();
    out.resize(old + chunk);
    z_->next_out = reinterpret_cast<Bytef*>(out.data() + old);
    z_->avail_out = static_cast<uInt>(chunk);
    const uInt in_before = z_->avail_in;
    const int rc = ::inflate(z_.get(), Z_SYNC_FLUSH);
    const std::size_t produced = chunk - z_->avail_out;
    out.resize(old + produced);
    if (rc == Z_STREAM_END) {
      stream_end_ = true;
      return out.size() > max_size ? Result::kTooBig : Result::kOk;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) return Result::kError;
    if (out.size() > max_size) return Result::kTooBig;
    if (z_->avail_in == 0 && z_->avail_out != 0) return Result::kOk;
    if (produced == 0 && z_->avail_in == in_before) return z_->avail_in == 0 ? Result::kOk : Result::kError;
  }
}

Inflater::Result Inflater::inflate(std::string_view compressed, std::string& out, std::size_t max_size) {
  // zlib counts in uInt: feed very large fragments in pieces.
  constexpr std::size_t kPiece = std::size_t{1} << 30;
  do {
    const std::size_t n = std::min(compressed.size(), kPiece);
    Result r = run(reinterpret_cast<const unsigned char*>(compressed.data()), n, out, max_size);
    if (r != Result::kOk) return r;
    compressed.remove_prefix(n);
  } while (!compressed.empty());
  return Result::kOk;
}

Inflater::Result Inflater::finish(std::string& out, std::size_t max_size) {
  Result r = run(kDeflateTail, sizeof kDeflateTail, out, max_size);
  if (ok_ && (no_context_takeover_ || stream_end_)) {
    inflateReset(z_.get());
    stream_end_ = false;
  }
  return r;
}

}  // namespace serval::http::websocket
