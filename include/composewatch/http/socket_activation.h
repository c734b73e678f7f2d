#pragma once
// systemd socket activation: the listening sockets systemd opened for the agent
// (composewatch.socket) and passed as $LISTEN_FDS/$LISTEN_PID, fds 3, 4, ... The service
// then serves on them (ServerOptions::listen_fds) in a network namespace of its own
// (PrivateNetwork=yes) where it could bind nothing useful.

#include <vector>

namespace composewatch::http {

// The sockets passed to this process, once: unsets $LISTEN_FDS, $LISTEN_PID and
// $LISTEN_FDNAMES (children do not see them) and marks the fds close-on-exec. Empty when
// nothing was passed or the variables name another process (no socket activation: bind
// --web.listen-address). Throws std::runtime_error naming the fd when a passed socket is
// not a listening TCP stream socket (a ListenStream= on a path, a ListenDatagram=):
// the agent serves HTTP over TCP only.
std::vector<int> inherited_listen_fds();

}  // namespace composewatch::http
