#include "common/toml_reader.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
// Debian's libtomlplusplus.so is built with exceptions; the project uses
// toml++ without them (TOML_EXCEPTIONS=0), so it is compiled in here,
// header-only, in this one translation unit.
#define TOML_HEADER_ONLY 1
#include "toml++/toml.h"

namespace callsd {

struct TomlReader::Doc {
  toml::table root;
  std::string source;
  std::set<std::string> known;  // keys some reader asked for
  absl::Status error;
};

namespace {

// Splits "a.b[2].c" into the node, or nullptr when absent.
const toml::node* Find(const toml::table& root, absl::string_view key) {
  // toml++'s at_path understands "a.b[2].c".
  toml::node_view<const toml::node> view = root.at_path(std::string_view(key.data(), key.size()));
  return view.node();
}

std::string TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: return "a date/time";
    default: return "nothing";
  }
}

// Every leaf key of `table` as dotted paths (array-of-table entries as [i]).
void Leaves(const toml::table& table, const std::string& prefix, std::vector<std::string>* out) {
  for (const auto& [k, v] : table) {
    const std::string path = prefix.empty() ? std::string(k.str()) : absl::StrCat(prefix, ".", std::string(k.str()));
    if (const toml::table* t = v.as_table()) {
      Leaves(*t, path, out);
    } else if (const toml::array* a = v.as_array(); a != nullptr && a->is_array_of_tables()) {
      for (size_t i = 0; i < a->size(); ++i) {
        Leaves(*a->get(i)->as_table(), absl::StrCat(path, "[", i, "]"), out);
      }
    } else {
      out->push_back(path);
    }
  }
}

void MergeInto(toml::table& dst, const toml::table& src) {
  for (const auto& [k, v] : src) {
    toml::table* dst_sub = dst[k].as_table();
    const toml::table* src_sub = v.as_table();
    if (dst_sub != nullptr && src_sub != nullptr) {
      MergeInto(*dst_sub, *src_sub);
    } else {
      dst.insert_or_assign(k, v);
    }
  }
}

}  // namespace

TomlReader::TomlReader(std::unique_ptr<Doc> doc) : doc_(std::move(doc)) {}
TomlReader::TomlReader(TomlReader&&) noexcept = default;
TomlReader& TomlReader::operator=(TomlReader&&) noexcept = default;
TomlReader::~TomlReader() = default;

absl::StatusOr<TomlReader> TomlReader::Parse(absl::string_view text, std::string source) {
  toml::parse_result result = toml::parse(std::string_view(text.data(), text.size()));
  if (!result) {
    const toml::parse_error& err = result.error();
    return absl::InvalidArgumentError(absl::StrCat(
        "config ", source, ":", err.source().begin.line, ":", err.source().begin.column, ": ",
        std::string(err.description())));
  }
  auto doc = std::make_unique<Doc>();
  doc->root = std::move(result).table();
  doc->source = std::move(source);
  return TomlReader(std::move(doc));
}

absl::StatusOr<TomlReader> TomlReader::ParseFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("config ", path, ": cannot read: ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return absl::InvalidArgumentError(absl::StrCat("config ", path, ": read error"));
  }
  return Parse(text.str(), path);
}

void TomlReader::Merge(const TomlReader& other) { MergeInto(doc_->root, other.doc_->root); }

void TomlReader::Fail(absl::string_view key, absl::string_view message) {
  if (!doc_->error.ok()) return;
  doc_->error =
      absl::InvalidArgumentError(absl::StrCat("config ", doc_->source, ": ", key, ": ", message));
}

bool TomlReader::Has(absl::string_view key) {
  doc_->known.insert(std::string(key));
  return Find(doc_->root, key) != nullptr;
}

void TomlReader::String(absl::string_view key, std::string* out) {
  if (!Has(key)) return;
  const toml::node* node = Find(doc_->root, key);
  if (auto v = node->value<std::string>(); v && node->is_string()) {
    *out = *v;
  } else {
    Fail(key, absl::StrCat("expected a string, got ", TypeName(*node)));
  }
}

void TomlReader::Bool(absl::string_view key, bool* out) {
  if (!Has(key)) return;
  const toml::node* node = Find(doc_->root, key);
  if (node->is_boolean()) {
    *out = *node->value<bool>();
  } else {
    Fail(key, absl::StrCat("expected true or false, got ", TypeName(*node)));
  }
}

void TomlReader::Int(absl::string_view key, int64_t min, int64_t max, int64_t* out) {
  if (!Has(key)) return;
  const toml::node* node = Find(doc_->root, key);
  if (!node->is_integer()) {
    Fail(key, absl::StrCat("expected an integer, got ", TypeName(*node)));
    return;
  }
  const int64_t v = *node->value<int64_t>();
  if (v < min || v > max) {
    Fail(key, absl::StrCat("must be between ", min, " and ", max, ", got ", v));
    return;
  }
  *out = v;
}

void TomlReader::MillisDuration(absl::string_view key, absl::Duration min, absl::Duration max,
                                absl::Duration* out) {
  int64_t ms = absl::ToInt64Milliseconds(*out);
  Int(key, absl::ToInt64Milliseconds(min), absl::ToInt64Milliseconds(max), &ms);
  *out = absl::Milliseconds(ms);
}

void TomlReader::SecondsDuration(absl::string_view key, absl::Duration min, absl::Duration max,
                                 absl::Duration* out) {
  int64_t s = absl::ToInt64Seconds(*out);
  Int(key, absl::ToInt64Seconds(min), absl::ToInt64Seconds(max), &s);
  *out = absl::Seconds(s);
}

void TomlReader::Enum(absl::string_view key, const std::vector<std::string>& choices,
                      std::string* out) {
  std::string value = *out;
  String(key, &value);
  if (!doc_->error.ok()) return;
  for (const std::string& c : choices) {
    if (c == value) {
      *out = value;
      return;
    }
  }
  Fail(key, absl::StrCat("must be one of ", absl::StrJoin(choices, ", "), ", got \"", value, "\""));
}

void TomlReader::StringList(absl::string_view key, std::vector<std::string>* out) {
  if (!Has(key)) return;
  const toml::node* node = Find(doc_->root, key);
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    Fail(key, absl::StrCat("expected an array of strings, got ", TypeName(*node)));
    return;
  }
  std::vector<std::string> values;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node* item = array->get(i);
    if (!item->is_string()) {
      Fail(absl::StrCat(key, "[", i, "]"),
           absl::StrCat("expected a string, got ", TypeName(*item)));
      return;
    }
    values.push_back(*item->value<std::string>());
  }
  *out = std::move(values);
}

size_t TomlReader::TableArraySize(absl::string_view key) {
  if (!Has(key)) return 0;
  const toml::node* node = Find(doc_->root, key);
  const toml::array* array = node->as_array();
  if (array != nullptr && array->empty()) return 0;  // `key = []`: none
  if (array == nullptr || !array->is_array_of_tables()) {
    Fail(key, absl::StrCat("expected an array of tables ([[", key, "]]), got ", TypeName(*node)));
    return 0;
  }
  return array->size();
}

absl::Status TomlReader::Finish() {
  if (!doc_->error.ok()) return doc_->error;
  std::vector<std::string> leaves;
  Leaves(doc_->root, "", &leaves);
  for (const std::string& leaf : leaves) {
    if (doc_->known.count(leaf) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("config ", doc_->source, ": ", leaf, ": unknown key"));
    }
  }
  return absl::OkStatus();
}

}  // namespace callsd
