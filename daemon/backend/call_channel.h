// CallChannel: the daemon's one WebSocket to the calls server (GET /v1/ws),
// open only while a call or room is active (DESIGN.md "Calls").
//
// Messages are wire.v1.WsMessage as JSON text frames. Threading: every
// method is called on the engine sequence; every listener callback is
// posted to the engine sequence given at construction, never made inline.
#ifndef CALLSD_DAEMON_BACKEND_CALL_CHANNEL_H_
#define CALLSD_DAEMON_BACKEND_CALL_CHANNEL_H_

#include "absl/status/status.h"
#include "daemon/backend/backend.h"
#include "wire/v1/wire.pb.h"

namespace callsd::daemon {

class CallChannel {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // The WebSocket is up (after Open()).
    virtual void OnChannelOpen() = 0;
    // A message from the server (a well-formed WsMessage; frames that are
    // not are logged and dropped).
    virtual void OnChannelMessage(const wire::v1::WsMessage& message) = 0;
    // The WebSocket is gone, or could not be opened: `why` says which
    // (UNAVAILABLE for network trouble, the server's code for a refused
    // upgrade, e.g. 400302 for a dead session key). Not called after
    // Close().
    virtual void OnChannelClosed(const absl::Status& why) = 0;
  };

  virtual ~CallChannel() = default;

  // Starts connecting with `creds` (App-Id and Session-Key headers). Ends
  // in exactly one OnChannelOpen or OnChannelClosed. A no-op while open or
  // opening.
  virtual void Open(const SessionCredentials& creds, Listener* listener) = 0;

  // Queues `message`; sent in order once open. Messages queued when the
  // channel closes are dropped (OnChannelClosed tells).
  virtual void Send(const wire::v1::WsMessage& message) = 0;

  // Closes the WebSocket: once open, the messages already queued go out
  // first, then a clean close frame (bounded in time); before the server's
  // hello the connection is abandoned and the queue dropped. No listener
  // callback follows. A no-op when closed.
  virtual void Close() = 0;

  // Open, or opening.
  virtual bool active() const = 0;
};

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_BACKEND_CALL_CHANNEL_H_
