#include "composewatch/compose/checks.h"

#include <stdexcept>

namespace composewatch::compose {

CheckCatalogue::CheckCatalogue(std::string_view kind, std::initializer_list<CheckInfo> checks)
    : kind_(kind), checks_(checks) {
  for (std::size_t i = 0; i < checks_.size(); ++i)
    if (position(checks_[i].id) != i)
      throw std::logic_error(kind_ + " check " + std::string(checks_[i].id) + " is listed twice");
}

const CheckInfo& CheckCatalogue::at(std::string_view id) const {
  const std::size_t i = position(id);
  if (i == checks_.size()) throw std::out_of_range("unknown " + kind_ + " check: " + std::string(id));
  return checks_[i];
}

std::size_t CheckCatalogue::position(std::string_view id) const {
  for (std::size_t i = 0; i < checks_.size(); ++i)
    if (checks_[i].id == id) return i;
  return checks_.size();
}

}  // namespace composewatch::compose
