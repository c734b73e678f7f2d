#pragma once
// Loading one YAML document with yaml-cpp, bounded.
//
// yaml-cpp 0.7's parser stops without consuming a token it cannot start a node with
// outside a flow collection (a stray `,`, `]`, `}` or `?`): the document ends empty, and
// the next document starts at the same token, so `YAML::LoadAll` never returns (it
// allocates empty documents until memory runs out) and `YAML::Load` silently returns null
// for the whole file. Every config and Compose file goes through load_one_document instead.

#include <string>
#include <yaml-cpp/node/node.h>

namespace composewatch::yaml {

// The single document of `text` (a null node for an empty stream). Throws
// YAML::ParserException, with the mark of the offending token, for a syntax error, for a
// token the parser cannot place (a stray `,`), and for a second document.
YAML::Node load_one_document(const std::string& text);

}  // namespace composewatch::yaml
