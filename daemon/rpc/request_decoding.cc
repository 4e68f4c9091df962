#include "daemon/rpc/request_decoding.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/stubs/common.h"
#include "google/protobuf/unknown_field_set.h"

namespace callsd::daemon::rpc {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

// Finds a string field whose bytes are not UTF-8, reading the message
// without its schema's checks. Returns its dotted name, or "".
std::string FindBadUtf8(const UnknownFieldSet& fields, const Descriptor* type, int depth) {
  if (depth > 16) return "";
  for (int i = 0; i < fields.field_count(); ++i) {
    const UnknownField& f = fields.field(i);
    if (f.type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    const FieldDescriptor* fd = type->FindFieldByNumber(f.number());
    if (fd == nullptr) continue;
    const std::string& value = f.length_delimited();
    if (fd->type() == FieldDescriptor::TYPE_STRING &&
        !google::protobuf::internal::IsStructurallyValidUTF8(value.data(),
                                                              static_cast<int>(value.size()))) {
      return fd->name();
    }
    if (fd->type() == FieldDescriptor::TYPE_MESSAGE) {
      UnknownFieldSet nested;
      if (nested.ParseFromString(value)) {
        std::string inner = FindBadUtf8(nested, fd->message_type(), depth + 1);
        if (!inner.empty()) return absl::StrCat(fd->name(), ".", inner);
      }
    }
  }
  return "";
}

}  // namespace

absl::Status DecodeRequest(absl::string_view bytes, google::protobuf::Message* out) {
  if (bytes.size() > kMaxRequestBytes) {
    return CallsError(absl::StatusCode::kInvalidArgument, 0,
                      absl::StrCat("request of ", bytes.size(), " bytes is over the limit of ",
                                   kMaxRequestBytes));
  }
  // Protobuf logs an ERROR for every non-UTF-8 string it meets; the
  // diagnosis below names it instead, so parse quietly first.
  UnknownFieldSet raw;
  if (!raw.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return CallsError(absl::StatusCode::kInvalidArgument, 0,
                      absl::StrCat("malformed request: not a ", out->GetDescriptor()->name()));
  }
  const std::string bad = FindBadUtf8(raw, out->GetDescriptor(), 0);
  if (!bad.empty()) return InvalidField(bad, "is not valid UTF-8");
  if (!out->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return CallsError(absl::StatusCode::kInvalidArgument, 0,
                      absl::StrCat("malformed request: not a valid ",
                                   out->GetDescriptor()->name()));
  }
  return absl::OkStatus();
}

}  // namespace callsd::daemon::rpc
