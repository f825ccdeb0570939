#include "runtimes/ocr/image_decode.hpp"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

namespace serval::runtimes::ocr {
namespace {

std::string encode(const cv::Mat& m, const char* ext) {
  std::vector<unsigned char> buf;
  cv::imencode(ext, m, buf);
  return {buf.begin(), buf.end()};
}

TEST(ImageDecode, SniffsAndReadsHeaderSizes) {
  cv::Mat img(37, 123, CV_8UC3, cv::Scalar(10, 20, 30));
  std::string png = encode(img, ".png"), jpg = encode(img, ".jpg");
  EXPECT_EQ(sniff_image_format(png), ImageFormat::Png);
  EXPECT_EQ(sniff_image_format(jpg), ImageFormat::Jpeg);
  EXPECT_FALSE(sniff_image_format("GIF89a"));
  EXPECT_FALSE(sniff_image_format(""));
  EXPECT_EQ(image_header_size(png), cv::Size(123, 37));
  EXPECT_EQ(image_header_size(jpg), cv::Size(123, 37));
  EXPECT_FALSE(image_header_size(png.substr(0, 20)));
}

TEST(ImageDecode, GraySixteenBitAndAlphaBecomeBgr) {
  cv::Mat gray(10, 20, CV_8UC1, cv::Scalar(77));
  auto g = std::get<cv::Mat>(decode_image(encode(gray, ".png"), 1e6));
  EXPECT_EQ(g.type(), CV_8UC3);
  EXPECT_EQ(g.at<cv::Vec3b>(5, 5), cv::Vec3b(77, 77, 77));

  cv::Mat deep(10, 20, CV_16UC3, cv::Scalar(65535, 0, 257 * 100));
  auto d = std::get<cv::Mat>(decode_image(encode(deep, ".png"), 1e6));
  EXPECT_EQ(d.type(), CV_8UC3);
  EXPECT_EQ(d.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 0, 100));

  cv::Mat bgra(10, 20, CV_8UC4, cv::Scalar(0, 0, 0, 0));  // transparent black -> white
  bgra.at<cv::Vec4b>(1, 1) = cv::Vec4b(0, 0, 0, 255);     // opaque black stays black
  auto a = std::get<cv::Mat>(decode_image(encode(bgra, ".png"), 1e6));
  EXPECT_EQ(a.type(), CV_8UC3);
  EXPECT_EQ(a.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(a.at<cv::Vec3b>(1, 1), cv::Vec3b(0, 0, 0));
}

TEST(ImageDecode, ErrorsSayWhatIsWrong) {
  EXPECT_EQ(std::get<std::string>(decode_image("", 1e6)), "the image is empty (0 bytes)");
  EXPECT_EQ(std::get<std::string>(decode_image("hello", 1e6)), "expected a PNG or JPEG image");
  cv::Mat img(100, 200, CV_8UC3, cv::Scalar(0, 0, 0));
  auto big = decode_image(encode(img, ".png"), 19999);
  ASSERT_TRUE(std::holds_alternative<std::string>(big));
  EXPECT_EQ(std::get<std::string>(big), "the image is too large: 200x100 pixels, at most 19999 allowed");
  std::string jpg = encode(img, ".jpg");
  auto cut = decode_image(jpg.substr(0, 10), 1e6);
  ASSERT_TRUE(std::holds_alternative<std::string>(cut));
}

}  // namespace
}  // namespace serval::runtimes::ocr
