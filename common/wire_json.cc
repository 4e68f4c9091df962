#include "common/wire_json.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "wire/v1/wire.pb.h"

namespace callsd {

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  // Serialising a well-formed message cannot fail.
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

absl::Status FromJson(absl::string_view json, google::protobuf::Message* out) {
  out->Clear();
  if (json.size() > kMaxJsonBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON body of ", json.size(), " bytes is over the limit of ", kMaxJsonBytes));
  }
  if (json.empty()) return absl::InvalidArgumentError("empty body where JSON was expected");
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), out, options);
  if (!status.ok()) {
    out->Clear();
    return absl::InvalidArgumentError(
        absl::StrCat("malformed JSON for ", out->GetDescriptor()->name(), ": ",
                     std::string(status.message())));
  }
  return absl::OkStatus();
}

std::string ErrorJson(int code, absl::string_view message) {
  callsd::wire::v1::Error error;
  error.set_error(true);
  error.set_code(code);
  error.set_message(std::string(message));
  return ToJson(error);
}

}  // namespace callsd
