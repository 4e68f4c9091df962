// Fuzz target: what the daemon parses from the calls server (common/
// wire_json.h): WebSocket messages and the REST answers, each through the
// code that reads them (InterpretResponse for every answer, UpdateFromWire
// for rooms). The first byte picks the message: 'w' WsMessage, 'a'
// AuthResponse, 'c' CallList, 'r' RoomInfo, 'e' Error, 's' any JSON object
// (answers the daemon ignores); other bytes pick by value. Properties: no
// crash; a refusal is INVALID_ARGUMENT and leaves the message empty; what is
// accepted survives ToJson -> FromJson unchanged.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/http/http_client.h"
#include "common/wire_json.h"
#include "daemon/backend/rest_backend.h"
#include "daemon/calls/room.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/fuzz/fuzz_check.h"
#include "wire/v1/wire.pb.h"

namespace {

namespace wire = callsd::wire::v1;

std::unique_ptr<google::protobuf::Message> Pick(uint8_t selector) {
  switch (selector) {
    case 'w': return std::make_unique<wire::WsMessage>();
    case 'a': return std::make_unique<wire::AuthResponse>();
    case 'c': return std::make_unique<wire::CallList>();
    case 'r': return std::make_unique<wire::RoomInfo>();
    case 'e': return std::make_unique<wire::Error>();
    case 's': return std::make_unique<google::protobuf::Struct>();
    default: return Pick("wacres"[selector % 6]);
  }
}

// The daemon reads every REST answer through InterpretResponse first.
void CheckInterpret(int http_status, absl::string_view body) {
  callsd::HttpResponse response;
  response.status = http_status;
  response.body = std::string(body);
  absl::StatusOr<callsd::HttpResponse> answer =
      callsd::daemon::InterpretResponse("fuzz", std::move(response));
  if (answer.ok()) {
    FUZZ_CHECK(answer->status >= 200 && answer->status < 300, "a non-2xx answer passed");
  } else {
    FUZZ_CHECK(answer.status().code() != absl::StatusCode::kOk, "");
    FUZZ_CHECK(!answer.status().message().empty(), "an error without a reason");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::unique_ptr<google::protobuf::Message> message = Pick(data[0]);
  const absl::string_view json(reinterpret_cast<const char*>(data) + 1, size - 1);

  const absl::Status parsed = callsd::FromJson(json, message.get());
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.code() == absl::StatusCode::kInvalidArgument, parsed.ToString());
    FUZZ_CHECK(message->ByteSizeLong() == 0, "a refused message kept some fields");
  } else if (message->GetDescriptor() != google::protobuf::Struct::descriptor()) {
    // (A Struct holds doubles: 1e999 or -0 need not survive; the daemon
    // only asks whether the body is an object.)
    const std::string again = callsd::ToJson(*message);
    std::unique_ptr<google::protobuf::Message> reparsed(message->New());
    const absl::Status status = callsd::FromJson(again, reparsed.get());
    FUZZ_CHECK(status.ok(), status.ToString());
    // Protobuf 3.21's JSON parser keeps an object under an empty key ("":
    // {...}) as an unknown field; ToJson writes none and the daemon reads
    // none, so only the known fields must survive.
    message->DiscardUnknownFields();
    google::protobuf::util::MessageDifferencer differencer;
    std::string differences;
    differencer.ReportDifferencesToString(&differences);
    FUZZ_CHECK(differencer.Compare(*message, *reparsed),
               "ToJson -> FromJson changed the message: " + differences);
  }

  if (parsed.ok()) {
    callsd::daemon::RoomRecord room;
    if (const auto* info = dynamic_cast<const wire::RoomInfo*>(message.get())) {
      callsd::daemon::UpdateFromWire(*info, &room);
    } else if (const auto* ws = dynamic_cast<const wire::WsMessage*>(message.get())) {
      callsd::daemon::UpdateFromWire(ws->room(), &room);
    }
  }
  CheckInterpret(200, json);
  CheckInterpret(503, json);
  return 0;
}
