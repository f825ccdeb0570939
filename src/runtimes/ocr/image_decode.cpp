#include "runtimes/ocr/image_decode.hpp"

#include <cstdint>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace serval::runtimes::ocr {

namespace {

unsigned byte_at(std::string_view s, std::size_t i) { return static_cast<unsigned char>(s[i]); }

std::uint32_t be32(std::string_view s, std::size_t i) {
  return (byte_at(s, i) << 24) | (byte_at(s, i + 1) << 16) | (byte_at(s, i + 2) << 8) | byte_at(s, i + 3);
}
unsigned be16(std::string_view s, std::size_t i) { return (byte_at(s, i) << 8) | byte_at(s, i + 1); }

std::optional<cv::Size> png_size(std::string_view s) {
  // 8-byte signature, then the IHDR chunk: length(4) "IHDR"(4) width(4) height(4).
  if (s.size() < 24 || s.substr(12, 4) != "IHDR") return std::nullopt;
  std::uint32_t w = be32(s, 16), h = be32(s, 20);
  if (w == 0 || h == 0 || w > 0x7fffffffu || h > 0x7fffffffu) return std::nullopt;
  return cv::Size(static_cast<int>(w), static_cast<int>(h));
}

std::optional<cv::Size> jpeg_size(std::string_view s) {
  std::size_t i = 2;  // after SOI
  while (i + 4 <= s.size()) {
    if (byte_at(s, i) != 0xFF) return std::nullopt;
    unsigned marker = byte_at(s, i + 1);
    if (marker == 0xFF) { ++i; continue; }                       // fill byte
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) { i += 2; continue; }  // no length
    if (marker == 0xD9 || marker == 0xDA) return std::nullopt;   // end of image / scan before a frame
    unsigned len = be16(s, i + 2);
    if (len < 2) return std::nullopt;
    bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (i + 9 > s.size()) return std::nullopt;
      unsigned h = be16(s, i + 5), w = be16(s, i + 7);
      if (w == 0 || h == 0) return std::nullopt;
      return cv::Size(static_cast<int>(w), static_cast<int>(h));
    }
    i += 2 + len;
  }
  return std::nullopt;
}

}  // namespace

std::optional<ImageFormat> sniff_image_format(std::string_view s) noexcept {
  static constexpr std::string_view png_sig("\x89PNG\r\n\x1a\n", 8);
  if (s.size() >= 8 && s.substr(0, 8) == png_sig) return ImageFormat::Png;
  if (s.size() >= 3 && byte_at(s, 0) == 0xFF && byte_at(s, 1) == 0xD8 && byte_at(s, 2) == 0xFF)
    return ImageFormat::Jpeg;
  return std::nullopt;
}

std::optional<cv::Size> image_header_size(std::string_view s) noexcept {
  auto fmt = sniff_image_format(s);
  if (!fmt) return std::nullopt;
  return *fmt == ImageFormat::Png ? png_size(s) : jpeg_size(s);
}

std::variant<cv::Mat, std::string> decode_image(std::string_view bytes, double max_pixels) {
  if (bytes.empty()) return std::string("the image is empty (0 bytes)");
  auto fmt = sniff_image_format(bytes);
  if (!fmt) return std::string("expected a PNG or JPEG image");
  auto size = image_header_size(bytes);
  if (!size) return std::string("the image could not be decoded: no valid PNG/JPEG header with a size");
  double pixels = static_cast<double>(size->width) * static_cast<double>(size->height);
  if (pixels > max_pixels)
    return "the image is too large: " + std::to_string(size->width) + "x" + std::to_string(size->height) +
           " pixels, at most " + std::to_string(static_cast<long long>(max_pixels)) + " allowed";

  cv::Mat img;
  try {
    // cv::imdecode wants a Mat it will not write to; it copies nothing from `bytes` after returning.
    cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
    // JPEG: IMREAD_COLOR applies the EXIF orientation. PNG: keep alpha and 16-bit to convert here.
    img = cv::imdecode(buf, *fmt == ImageFormat::Jpeg ? cv::IMREAD_COLOR : cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    return std::string("the image could not be decoded: ") + e.what();
  }
  if (img.empty()) return std::string("the image could not be decoded (corrupt or truncated PNG/JPEG data)");

  if (img.depth() != CV_8U) {
    cv::Mat eight;
    img.convertTo(eight, CV_8U, img.depth() == CV_16U ? 1.0 / 257.0 : 1.0);
    img = eight;
  }
  cv::Mat bgr;
  switch (img.channels()) {
    case 1: cv::cvtColor(img, bgr, cv::COLOR_GRAY2BGR); break;
    case 3: bgr = img; break;
    case 4: {  // blend onto white: transparent pixels become paper, not black
      bgr.create(img.size(), CV_8UC3);
      for (int y = 0; y < img.rows; ++y) {
        const auto* src = img.ptr<cv::Vec4b>(y);
        auto* dst = bgr.ptr<cv::Vec3b>(y);
        for (int x = 0; x < img.cols; ++x) {
          unsigned a = src[x][3];
          for (int c = 0; c < 3; ++c) dst[x][c] = static_cast<unsigned char>((src[x][c] * a + 255u * (255u - a) + 127u) / 255u);
        }
      }
      break;
    }
    default: return "the image has an unsupported number of channels (" + std::to_string(img.channels()) + ")";
  }
  return bgr;
}

}  // namespace serval::runtimes::ocr
