// The state file (--state.dir/state.json): any bytes decode to a state or an error naming
// why, never a crash; a decoded state encodes to text that decodes to the same containers.

#include <stdexcept>

#include "composewatch/state/saved.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace state = composewatch::state;
  const auto decoded = state::decode_saved_state(composewatch::fuzz::as_text(data, size));
  if (!decoded.state) {
    if (decoded.error.empty()) throw std::logic_error("a state refused without a reason");
    return 0;
  }
  const auto again = state::decode_saved_state(state::encode_saved_state(*decoded.state));
  if (!again.state || again.state->containers != decoded.state->containers ||
      again.state->events != decoded.state->events || again.state->stream.recent != decoded.state->stream.recent)
    throw std::logic_error("a decoded state does not survive encoding: " + again.error);
  return 0;
}
