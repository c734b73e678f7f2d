#include "composewatch/yaml/document.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <sstream>
#include <vector>

namespace composewatch::yaml {
namespace {

// Records where each document starts and where its first node is; the content is built
// by YAML::Load afterwards.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  std::vector<YAML::Mark> first_nodes;

  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { node(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { node(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string&) override { node(m); }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override { node(m); }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override { node(m); }
  void OnMapEnd() override {}

 private:
  void node(const YAML::Mark& m) {
    if (first_nodes.size() < starts.size()) first_nodes.push_back(m);
  }
};

}  // namespace

YAML::Node load_one_document(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts docs;
  if (!parser.HandleNextDocument(docs)) return YAML::Node();  // an empty stream
  if (parser.HandleNextDocument(docs)) {
    // A second document, or a token the parser did not consume: then the next document
    // starts at the same place, and would forever. At most three documents are looked at.
    const YAML::Mark second = docs.starts[1];
    const bool stuck = second.pos == docs.starts[0].pos ||
                       (parser.HandleNextDocument(docs) && docs.starts[2].pos == second.pos);
    if (stuck) {
      const char c = second.pos >= 0 && static_cast<std::size_t>(second.pos) < text.size()
                         ? text[static_cast<std::size_t>(second.pos)]
                         : '?';
      throw YAML::ParserException(second, std::string("unexpected '") + c +
                                              "' (outside of a [list] or {mapping})");
    }
    throw YAML::ParserException(docs.first_nodes.size() > 1 ? docs.first_nodes[1] : second,
                                "more than one YAML document; expected one");
  }
  return YAML::Load(text);
}

}  // namespace composewatch::yaml
