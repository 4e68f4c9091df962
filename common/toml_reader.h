// TomlReader: typed, validated reading of a TOML config file (toml++), with
// one clear error line naming the file and the key, and unknown keys refused
// (a typo must not silently fall back to a default).
//
// Usage:
//   ASSIGN_OR_RETURN(TomlReader reader, TomlReader::Parse(text, "/etc/x.conf"));
//   reader.String("daemon.socket", &config.socket);
//   reader.Int("server.request_timeout_ms", 100, 600000, &ms);
//   RETURN_IF_ERROR(reader.Finish());
// Readers leave the output untouched when the key is absent (the default
// stays). After the first error the others are ignored; Finish() returns it.
#ifndef CALLSD_COMMON_TOML_READER_H_
#define CALLSD_COMMON_TOML_READER_H_

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace callsd {

class TomlReader {
 public:
  // Parses `text`; `source` names it in errors (a path, or "--set").
  // INVALID_ARGUMENT "config SOURCE:LINE:COL: what" for a syntax error.
  static absl::StatusOr<TomlReader> Parse(absl::string_view text, std::string source);
  // Reads and parses a file. An unreadable file is an error naming it.
  static absl::StatusOr<TomlReader> ParseFile(const std::string& path);

  TomlReader(TomlReader&&) noexcept;
  TomlReader& operator=(TomlReader&&) noexcept;
  ~TomlReader();

  // Overlays `other`'s keys on this document (other wins; tables merge
  // key by key). Used for command-line overrides.
  void Merge(const TomlReader& other);

  // `key` is a dotted path: "section.name".
  void String(absl::string_view key, std::string* out);
  void Bool(absl::string_view key, bool* out);
  void Int(absl::string_view key, int64_t min, int64_t max, int64_t* out);
  // An integer number of milliseconds (or seconds, for SecondsDuration).
  void MillisDuration(absl::string_view key, absl::Duration min, absl::Duration max,
                      absl::Duration* out);
  void SecondsDuration(absl::string_view key, absl::Duration min, absl::Duration max,
                       absl::Duration* out);
  // One of `choices`.
  void Enum(absl::string_view key, const std::vector<std::string>& choices, std::string* out);
  void StringList(absl::string_view key, std::vector<std::string>* out);
  // True when the document has `key` (marks it as known).
  bool Has(absl::string_view key);
  // An array of tables, e.g. [[apps]]: how many there are. Keys inside are
  // read as "apps[0].id" etc.
  size_t TableArraySize(absl::string_view key);

  // Records a validation error for `key` found by the caller.
  void Fail(absl::string_view key, absl::string_view message);

  // OK, or the first error, or INVALID_ARGUMENT naming the first key that no
  // reader asked for ("unknown key").
  absl::Status Finish();

 private:
  struct Doc;
  explicit TomlReader(std::unique_ptr<Doc> doc);

  std::unique_ptr<Doc> doc_;
};

}  // namespace callsd

#endif  // CALLSD_COMMON_TOML_READER_H_
