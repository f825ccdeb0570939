// Image decoding for OCR requests: PNG or JPEG bytes -> an 8-bit BGR cv::Mat, with the pixel count
// checked from the file header before anything is decoded (so a small file claiming 100000x100000
// pixels is refused without allocating them).
//
//   if (!looks_like_png_or_jpeg(bytes)) return fail("expected a PNG or JPEG image");
//   auto img = decode_image(bytes, 40e6);
//   if (auto* err = std::get_if<std::string>(&img)) return fail(*err);
//   cv::Mat bgr = std::get<cv::Mat>(img);   // CV_8UC3; gray is expanded, alpha is blended onto white
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <opencv2/core.hpp>

namespace serval::runtimes::ocr {

enum class ImageFormat { Png, Jpeg };

// From the first bytes (the PNG signature, or the JPEG SOI marker FF D8 FF).
std::optional<ImageFormat> sniff_image_format(std::string_view bytes) noexcept;
inline bool looks_like_png_or_jpeg(std::string_view bytes) noexcept { return sniff_image_format(bytes).has_value(); }

// Width and height as the header states them (PNG IHDR, JPEG SOFn), or nothing if not found.
std::optional<cv::Size> image_header_size(std::string_view bytes) noexcept;

// Decodes to CV_8UC3 BGR, or returns a message saying what is wrong with the image.
std::variant<cv::Mat, std::string> decode_image(std::string_view bytes, double max_pixels);

}  // namespace serval::runtimes::ocr
