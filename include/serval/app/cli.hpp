// CliOptions: an app's own command-line flags, parsed together with the server's (--host, --port...).
//
//   std::string secret;
//   std::vector<std::string> keys;
//   serval::CliOptions cli;
//   cli.add("--jwt-secret", &secret, "HMAC secret for bearer tokens");
//   cli.add("--api-keys", &keys, "comma-separated API keys");
//   return app.run(argc, argv, cli);     // --help lists both; an unknown flag exits 2
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace serval {

class CliOptions {
 public:
  // The flag's value is stored into *target when the flag is given.
  void add(std::string flag, std::string* target, std::string help);
  void add(std::string flag, std::vector<std::string>* target, std::string help);  // comma-separated
  void add(std::string flag, long long* target, std::string help);
  void add(std::string flag, bool* target, std::string help);                      // no value: sets true
  // Runs after parsing; return a non-empty message to reject the combination.
  void check(std::function<std::string()> validator) { validators_.push_back(std::move(validator)); }

  struct Option {
    std::string flag;
    std::string help;
    bool takes_value = true;
    std::function<std::string(std::string_view)> set;  // returns an error message or ""
  };
  const Option* find(std::string_view flag) const noexcept;
  std::string usage() const;
  std::string validate() const;

 private:
  std::vector<Option> options_;
  std::vector<std::function<std::string()>> validators_;
};

}  // namespace serval
