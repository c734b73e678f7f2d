#include "composewatch/images/image_checks.h"

#include <algorithm>
#include <cctype>

#include "composewatch/compose/lint.h"
#include "composewatch/images/build_checks.h"

namespace composewatch::images {

bool is_root_user(std::string_view user) {
  const std::string_view name = user.substr(0, user.find(':'));
  return name.empty() || name == "0" || name == "root";
}

std::vector<Finding> check_image(const ServiceImage& img, const GrowthRule& rule) {
  std::vector<Finding> out;
  const std::string where = img.image.empty() ? img.config.id : img.image;
  const std::string user = img.has_container_user ? img.container_user : img.config.user;
  if (is_root_user(user))
    out.push_back({std::string(check_id::image_root), where,
                   (img.container.empty() ? "the image" : "container " + img.container) + " runs as " +
                       (user.empty() ? std::string("root (no user set)") : "user " + user)});
  std::vector<std::string> secrets;
  for (const auto& k : img.config.env_keys)
    if (compose::is_secret_key(k)) secrets.push_back(k);
  if (!secrets.empty()) {
    std::string list;
    for (const auto& k : secrets) list += (list.empty() ? "" : ", ") + k;
    out.push_back({std::string(check_id::image_secret_env), where, "the image's environment sets " + list});
  }
  if (img.previous && img.previous->id != img.config.id && img.previous->size > 0) {
    const std::int64_t grew = img.config.size - img.previous->size;
    if (grew >= rule.min_bytes && double(grew) >= rule.min_ratio * double(img.previous->size))
      out.push_back({std::string(check_id::image_grew), where,
                     "the image grew by " + human_bytes(std::uint64_t(grew)) + " (" +
                         human_bytes(std::uint64_t(img.previous->size)) + " → " +
                         human_bytes(std::uint64_t(img.config.size)) + ") from " +
                         docker::short_id(img.previous->id)});
  }
  return out;
}

std::vector<docker::ImageLayer> largest_layers(std::vector<docker::ImageLayer> history, std::size_t n,
                                               std::size_t columns) {
  std::erase_if(history, [](const docker::ImageLayer& l) { return l.size <= 0; });
  std::stable_sort(history.begin(), history.end(),
                   [](const auto& a, const auto& b) { return a.size > b.size; });
  if (history.size() > n) history.resize(n);
  for (auto& l : history) {
    std::string s;
    for (char ch : l.created_by) {
      if (std::isspace(static_cast<unsigned char>(ch)) || static_cast<unsigned char>(ch) < 0x20) {
        if (!s.empty() && s.back() != ' ') s += ' ';
      } else {
        s += ch;
      }
    }
    for (std::string_view prefix : {"/bin/sh -c #(nop) ", "RUN /bin/sh -c ", "/bin/sh -c "})
      if (s.starts_with(prefix)) {
        s = (prefix == "/bin/sh -c #(nop) " ? "" : "RUN ") + s.substr(prefix.size());
        break;
      }
    if (s.ends_with(" # buildkit")) s.resize(s.size() - 11);
    if (columns > 1 && s.size() > columns) {
      std::size_t cut = columns - 1;
      while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
      s = s.substr(0, cut) + "\xE2\x80\xA6";
    }
    l.created_by = s.empty() ? "(no command recorded)" : s;
  }
  return history;
}

}  // namespace composewatch::images
