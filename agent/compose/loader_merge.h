#pragma once
// Merging of Compose trees, as `docker compose -f a -f b` and `extends` do it: mappings
// merge, most sequences append, command/entrypoint/healthcheck.test replace, volumes and
// ports de-duplicate by target, environment/labels/depends_on merge by key (their list
// forms are normalised to mappings before merging).

#include "yaml_tree.h"

namespace composewatch::compose::detail {

// Merges one service definition into `base`; `override` wins.
void merge_service(Node& base, const Node& override);

// Merges a whole file into `base`: services by name, other sections by key.
void merge_top_level(Node& base, const Node& override);

// After the last merge: keys still tagged `!reset` (set in the first file, or new in a
// later one) are absent, as in Compose v2, and no tag is left.
void drop_merge_tags(Node& n);

}  // namespace composewatch::compose::detail
