#include "daemon/rpc/byte_buffer_util.h"

#include <grpcpp/impl/codegen/proto_utils.h>

#include <vector>

namespace callsd::daemon::rpc {

std::string FlattenByteBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (!buffer.Dump(&slices).ok()) return bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return bytes;
}

void SerializeToByteBuffer(const google::protobuf::Message& message, grpc::ByteBuffer* out) {
  bool own = false;
  (void)grpc::GenericSerialize<grpc::ProtoBufferWriter, google::protobuf::Message>(message, out,
                                                                                    &own);
}

}  // namespace callsd::daemon::rpc
