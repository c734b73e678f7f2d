#pragma once
// A checklist: its checks' ids, each with a one-line why and a fix, in the order findings
// are reported. The compose checklist (compose/lint.h) and the image and build checklist
// (images/checks.h) are two of these: `composewatch check`, diagnose and the reports look
// a finding's why and fix up in them by its id.

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace composewatch::compose {

struct CheckInfo {
  std::string_view id;
  std::string_view why;
  std::string_view fix;
};

class CheckCatalogue {
 public:
  // `kind` names the checklist in errors ("lint", "image"). Ids are unique.
  CheckCatalogue(std::string_view kind, std::initializer_list<CheckInfo> checks);

  // The check with this id; throws std::out_of_range ("unknown lint check: x") for an
  // unknown id: ids come from our own check_id constants, never from input.
  const CheckInfo& at(std::string_view id) const;
  // Where the check stands in the report order; size() for an unknown id.
  std::size_t position(std::string_view id) const;

  std::size_t size() const { return checks_.size(); }
  std::vector<CheckInfo>::const_iterator begin() const { return checks_.begin(); }
  std::vector<CheckInfo>::const_iterator end() const { return checks_.end(); }

 private:
  std::string kind_;
  std::vector<CheckInfo> checks_;
};

}  // namespace composewatch::compose
