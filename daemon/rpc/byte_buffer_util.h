// Protobuf messages <-> grpc::ByteBuffer, for the raw-registered methods.
#ifndef CALLSD_DAEMON_RPC_BYTE_BUFFER_UTIL_H_
#define CALLSD_DAEMON_RPC_BYTE_BUFFER_UTIL_H_

#include <grpcpp/support/byte_buffer.h>

#include <string>

#include "google/protobuf/message.h"

namespace callsd::daemon::rpc {

// The buffer's bytes, flattened.
std::string FlattenByteBuffer(const grpc::ByteBuffer& buffer);

// Serialises `message` into `out` (replacing its content).
void SerializeToByteBuffer(const google::protobuf::Message& message, grpc::ByteBuffer* out);

}  // namespace callsd::daemon::rpc

#endif  // CALLSD_DAEMON_RPC_BYTE_BUFFER_UTIL_H_
