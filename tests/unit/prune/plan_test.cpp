// Prune decisions on hand-built inventories: the guardrails hold whatever a policy says,
// and the policy's grace, mode, keep_storage and brakes choose among what they allow.

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "composewatch/prune/plan.h"

using namespace composewatch;
using prune::Kind;

namespace {

constexpr double kNow = 1'800'000'000;
constexpr double kDay = 86400;

config::PrunePolicyConfig policy(std::string target) {
  config::PrunePolicyConfig p;
  p.name = "p";
  p.schedule = "every 1h";
  p.target = std::move(target);
  return p;  // older_than 24h, dry_run true: the defaults
}

docker::ImageSummary image(std::string id, std::vector<std::string> tags, double age_days, std::int64_t size = 1000,
                           std::int64_t shared = 0) {
  docker::ImageSummary i;
  i.id = std::move(id);
  i.repo_tags = std::move(tags);
  i.created = kNow - age_days * kDay;
  i.size = size;
  i.shared_size = shared;
  i.containers = 0;
  return i;
}

docker::ContainerSummary container(std::string id, std::string name, std::string state, double age_days,
                                   std::string image_id = "", std::map<std::string, std::string> labels = {}) {
  docker::ContainerSummary c;
  c.id = std::move(id);
  c.name = std::move(name);
  c.state = std::move(state);
  c.created = kNow - age_days * kDay;
  c.image_id = std::move(image_id);
  c.labels = std::move(labels);
  c.size_rw = 100;
  return c;
}

std::map<std::string, std::string> compose_labels(const std::string& project, const std::string& service) {
  return {{"com.docker.compose.project", project}, {"com.docker.compose.service", service}};
}

docker::VolumeSummary volume(std::string name, double age_days, std::int64_t size = 50,
                             std::map<std::string, std::string> labels = {}) {
  docker::VolumeSummary v;
  v.name = std::move(name);
  v.created_at = kNow - age_days * kDay;
  v.size = size;
  v.ref_count = 0;
  v.labels = std::move(labels);
  return v;
}

const std::string kAnon1(64, 'a');
const std::string kAnon2(64, 'b');

compose::ProjectState project(std::string name, std::map<std::string, std::string> service_images,
                              bool configured = true) {
  auto p = std::make_shared<compose::Project>();
  p->name = name;
  for (auto& [svc, img] : service_images) {
    compose::Service s;
    s.name = svc;
    s.image = img;
    if (img.empty()) s.has_build = true;
    s.location = {"/srv/" + name + "/docker-compose.yml", 3};
    p->services[svc] = s;
  }
  compose::ProjectState st;
  st.name = std::move(name);
  st.source.configured = configured;
  st.source.files = {"/srv/" + st.name + "/docker-compose.yml"};
  st.model = std::move(p);
  st.valid = true;
  return st;
}

std::vector<std::string> ids(const std::vector<prune::Entry>& entries) {
  std::vector<std::string> v;
  for (const auto& e : entries) v.push_back(e.id);
  return v;
}

std::string kept_reason(const prune::PrunePlan& plan, const std::string& id) {
  for (const auto& e : plan.kept)
    if (e.id == id) return e.reason;
  return "<not kept>";
}

#define EXPECT_KEPT_BECAUSE(plan, id, text) \
  EXPECT_NE(kept_reason(plan, id).find(text), std::string::npos) << id << ": " << kept_reason(plan, id)

}  // namespace

TEST(PrunePlan, DanglingImagesOnlyAndNeverOneAContainerUses) {
  prune::Inventory inv;
  inv.df.images = {image("sha256:dang-old", {}, 3), image("sha256:dang-young", {}, 0.5),
                   image("sha256:dang-used", {}, 9), image("sha256:tagged", {"app:1"}, 9)};
  inv.df.containers = {container("c1", "web", "exited", 1, "sha256:dang-used")};
  const auto plan = prune::make_plan(policy("images"), inv, {}, kNow);
  EXPECT_EQ(ids(plan.candidates), std::vector<std::string>{"sha256:dang-old"});
  EXPECT_KEPT_BECAUSE(plan, "sha256:dang-young", "younger than the grace period");
  EXPECT_KEPT_BECAUSE(plan, "sha256:dang-used", "used by container web (exited)");
  EXPECT_EQ(kept_reason(plan, "sha256:tagged"), "<not kept>") << "a tagged image is not what 'dangling' looks at";
  EXPECT_NE(plan.candidates[0].reason.find("dangling image, 3 days old"), std::string::npos);
}

TEST(PrunePlan, UnusedImagesNeverNamedByAKnownComposeFileEvenWhenTheProjectIsDown) {
  prune::Inventory inv;
  inv.df.images = {image("sha256:old", {"app:1"}, 10, 5000, 1000), image("sha256:db", {"postgres:16"}, 10),
                   image("sha256:built", {"shop_worker:latest"}, 10), image("sha256:inactive", {"tools:2"}, 10),
                   image("sha256:counted", {"x:1"}, 10)};
  inv.df.images[4].containers = 2;  // containers the listing did not show
  auto shop = project("shop", {{"db", "docker.io/library/postgres:16"}, {"worker", ""}});
  compose::Service tools;
  tools.name = "tools";
  tools.image = "tools:2";
  shop.model = std::make_shared<compose::Project>(*shop.model);
  const_cast<compose::Project&>(*shop.model).inactive_services["tools"] = tools;
  auto p = policy("images");
  p.images = "unused";
  const auto plan = prune::make_plan(p, inv, prune::ComposeKnowledge::from({shop}), kNow);
  EXPECT_EQ(ids(plan.candidates), std::vector<std::string>{"sha256:old"});
  EXPECT_EQ(plan.candidates[0].size, 4000) << "the image's own layers: size - shared size";
  EXPECT_KEPT_BECAUSE(plan, "sha256:db", "named by service db of compose project shop (/srv/shop/docker-compose.yml:3)");
  EXPECT_KEPT_BECAUSE(plan, "sha256:built", "named by service worker of compose project shop");
  EXPECT_KEPT_BECAUSE(plan, "sha256:inactive", "named by service tools");
  EXPECT_KEPT_BECAUSE(plan, "sha256:counted", "used by 2 container(s)");
}

TEST(PrunePlan, KeepLabelAndProtectLabelsHoldForEveryTarget) {
  prune::Inventory inv;
  const std::map<std::string, std::string> keep = {{"composewatch.keep", "true"}};
  const std::map<std::string, std::string> pinned = {{"com.example.pinned", "yes"}};
  const std::map<std::string, std::string> team = {{"team", "core"}};
  auto i1 = image("sha256:k", {}, 9), i2 = image("sha256:p", {}, 9), i3 = image("sha256:t", {}, 9),
       i4 = image("sha256:free", {}, 9);
  i1.labels = keep;
  i2.labels = pinned;
  i3.labels = team;
  inv.df.images = {i1, i2, i3, i4};
  inv.df.containers = {container("ck", "ck", "exited", 9, "", keep), container("cp", "cp", "exited", 9, "", pinned),
                       container("cf", "cf", "exited", 9)};
  inv.df.volumes = {volume(kAnon1, 9, 50, keep), volume(kAnon2, 9)};
  docker::NetworkSummary nk, nf;
  nk.id = "nk";
  nk.name = "kept-net";
  nk.labels = keep;
  nk.created = kNow - 9 * kDay;
  nf.id = "nf";
  nf.name = "free-net";
  nf.created = kNow - 9 * kDay;
  inv.networks = {nk, nf};

  auto p = policy("images");
  p.protect_labels = {"com.example.pinned", "team=core"};
  auto plan = prune::make_plan(p, inv, {}, kNow);
  EXPECT_EQ(ids(plan.candidates), std::vector<std::string>{"sha256:free"});
  EXPECT_KEPT_BECAUSE(plan, "sha256:k", "labelled composewatch.keep=true");
  EXPECT_KEPT_BECAUSE(plan, "sha256:p", "labelled com.example.pinned=yes (protect_labels: com.example.pinned)");
  EXPECT_KEPT_BECAUSE(plan, "sha256:t", "labelled team=core (protect_labels: team=core)");

  p.target = "containers";
  plan = prune::make_plan(p, inv, {}, kNow);
  EXPECT_EQ(ids(plan.candidates), std::vector<std::string>{"cf"});
  p.target = "volumes";
  p.allow_volumes = true;
  plan = prune::make_plan(p, inv, {}, kNow);
  EXPECT_EQ(ids(plan.candidates), std::vector<std::string>{kAnon2});
  p.target = "networks";
  plan = prune::make_plan(p, inv, {}, kNow);
  EXPECT_EQ(ids(plan.candidates), std::vector<std::string>{"nf"});

  // Only an explicit no lets the keep label go; any other value keeps.
  for (const char* v : {"True", "1", "yes", "tru"}) {
    i4.labels = {{"composewatch.keep", v}};
    inv.df.images = {i4};
    EXPECT_TRUE(prune::make_plan(policy("images"), inv, {}, kNow).candidates.empty()) << v;
  }
  i4.labels = {{"composewatch.keep", "false"}};
  inv.df.images = {i4};
  EXPECT_EQ(prune::make_plan(policy("images"), inv, {}, kNow).candidates.size(), 1u);
}

TEST(PrunePlan, ContainersOfDeclaredServicesOrUnknownProjectsStay) {
  prune::Inventory inv;
  inv.df.containers = {container("run", "shop_web_1", "running", 9, "", compose_labels("shop", "web")),
                       container("decl", "shop_db_1", "exited", 9, "", compose_labels("shop", "db")),
                       container("orph", "shop_old_1", "exited", 9, "", compose_labels("shop", "old")),
                       container("unk", "blog_web_1", "exited", 9, "", compose_labels("blog", "web")),
                       container("plain", "plain", "exited", 9), container("dead", "dead", "dead", 9),
                       container("made", "made", "created", 9), container("young", "young", "exited", 0.1)};
  const auto knowledge = prune::ComposeKnowledge::from({project("shop", {{"web", "w:1"}, {"db", "d:1"}})});
  const auto plan = prune::make_plan(policy("containers"), inv, knowledge, kNow);
  auto got = ids(plan.candidates);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"dead", "made", "orph", "plain"}));
  EXPECT_EQ(kept_reason(plan, "run"), "<not kept>") << "running containers are not looked at";
  EXPECT_KEPT_BECAUSE(plan, "decl", "of service db, which compose project shop declares");
  EXPECT_KEPT_BECAUSE(plan, "unk", "compose project blog, whose files are not known");
  EXPECT_KEPT_BECAUSE(plan, "young", "younger than the grace period");
  // The guard on its own refuses a running container whatever the policy asks.
  // Guard keeps references: the policy must outlive it (a temporary here was read after
  // it died; ASan: stack-use-after-scope).
  const auto containers_policy = policy("containers");
  const prune::Guard guard(inv, knowledge, containers_policy);
  EXPECT_TRUE(guard.container(inv.df.containers[0]).has_value());
}

TEST(PrunePlan, ImagesAndContainersRefuseWhileAProjectDoesNotLoad) {
  prune::Inventory inv;
  inv.df.images = {image("sha256:x", {}, 9)};
  compose::ProjectState broken;
  broken.name = "shop";
  broken.source.configured = true;
  broken.error = "/srv/shop/docker-compose.yml:4: mapping values are not allowed here";
  const auto knowledge = prune::ComposeKnowledge::from({broken});
  for (const char* target : {"images", "containers"}) {
    const auto plan = prune::make_plan(policy(target), inv, knowledge, kNow);
    EXPECT_TRUE(plan.candidates.empty()) << target;
    EXPECT_NE(plan.refused.find("compose project shop: its files do not load"), std::string::npos) << plan.refused;
    EXPECT_NE(plan.refused.find("/srv/shop/docker-compose.yml:4"), std::string::npos) << plan.refused;
  }
  // Discovered from labels, with files the agent cannot read (ProtectHome, a deleted
  // directory): the images of its services that have no container are unknown all the
  // same, so it refuses too (it used to protect only the project's containers).
  broken.source.configured = false;
  broken.source.files = {"/home/someone/app/compose.yml"};
  broken.error = "/home/someone/app/compose.yml: cannot read: Permission denied";
  const auto discovered = prune::make_plan(policy("images"), inv, prune::ComposeKnowledge::from({broken}), kNow);
  EXPECT_TRUE(discovered.candidates.empty());
  EXPECT_NE(discovered.refused.find("compose project shop: its files do not load (/home/someone/app/compose.yml:"),
            std::string::npos)
      << discovered.refused;
  // A project whose last good model is kept but whose files broke since: what they name
  // now is unknown.
  auto was_good = project("shop", {{"web", "app:1"}});
  was_good.valid = false;
  was_good.error = "/srv/shop/docker-compose.yml:9: bad indentation";
  EXPECT_FALSE(prune::make_plan(policy("images"), inv, prune::ComposeKnowledge::from({was_good}), kNow).refused.empty());
  // Before the compose projects were loaded at all.
  EXPECT_NE(prune::make_plan(policy("images"), inv, prune::ComposeKnowledge::not_loaded_yet(), kNow)
                .refused.find("not loaded yet"),
            std::string::npos);
  // Volumes do not depend on what compose files name.
  auto v = policy("volumes");
  v.allow_volumes = true;
  EXPECT_TRUE(prune::make_plan(v, inv, knowledge, kNow).refused.empty());
}

// image: name:tag@sha256:… (as Renovate and Dependabot pin) and image: name@sha256:…:
// pulled by digest, the image has RepoDigests and no RepoTags, so the tag never matched.
TEST(PrunePlan, DigestPinnedImagesStayForEveryImagesMode) {
  const std::string d1 = "sha256:" + std::string(64, '1'), d2 = "sha256:" + std::string(64, '2'),
                    d3 = "sha256:" + std::string(64, '3');
  prune::Inventory inv;
  auto pinned_tag = image("sha256:a", {}, 30);
  pinned_tag.repo_digests = {"127.0.0.1:5000/app@" + d1};
  auto pinned = image("sha256:b", {}, 30);
  pinned.repo_digests = {"docker.io/library/postgres@" + d2};
  auto other = image("sha256:c", {}, 30);
  other.repo_digests = {"127.0.0.1:5000/app@" + d3};
  inv.df.images = {pinned_tag, pinned, other};
  const auto shop = project("shop", {{"api", "127.0.0.1:5000/app:1.4@" + d1}, {"db", "postgres@" + d2}});
  const auto knowledge = prune::ComposeKnowledge::from({shop});
  for (const char* mode : {"dangling", "unused"}) {
    auto p = policy("images");
    p.images = mode;
    const auto plan = prune::make_plan(p, inv, knowledge, kNow);
    EXPECT_EQ(ids(plan.candidates), std::vector<std::string>{"sha256:c"}) << mode;
    EXPECT_KEPT_BECAUSE(plan, "sha256:a", "pinned by digest by service api of compose project shop");
    EXPECT_KEPT_BECAUSE(plan, "sha256:b", "pinned by digest by service db of compose project shop");
  }
  // Tagged too (pulled by tag once, then pinned): the tag alone also protects it.
  auto both = image("sha256:d", {"127.0.0.1:5000/app:1.4"}, 30);
  EXPECT_TRUE(prune::Guard(inv, knowledge, policy("images")).image(both));
}

// image: app:${TAG}, TAG unknown to the agent (set by whoever ran compose up): any tag of
// the repository may be the deployed one. A repository that itself depends on a variable
// cannot be matched: the policy refuses.
TEST(PrunePlan, AnImageWhoseTagIsUnknownProtectsItsRepositoryAndAnUnknownRepositoryRefuses) {
  prune::Inventory inv;
  inv.df.images = {image("sha256:app1", {"registry.example.com/app:1"}, 30),
                   image("sha256:app2", {"registry.example.com/app:2"}, 30),
                   image("sha256:appx", {"registry.example.com/app-tools:2"}, 30),
                   image("sha256:free", {"other:1"}, 30)};
  auto shop = project("shop", {{"api", "registry.example.com/app:"}});
  auto& api = const_cast<compose::Project&>(*shop.model).services["api"];
  api.unknown["image"] = {"TAG"};
  api.image_known_prefix = "registry.example.com/app:";
  auto p = policy("images");
  p.images = "unused";
  auto plan = prune::make_plan(p, inv, prune::ComposeKnowledge::from({shop}), kNow);
  EXPECT_TRUE(plan.refused.empty()) << plan.refused;
  EXPECT_EQ(ids(plan.candidates), (std::vector<std::string>{"sha256:free", "sha256:appx"}));
  EXPECT_KEPT_BECAUSE(plan, "sha256:app1", "of repository registry.example.com/app, whose tag service api");
  EXPECT_KEPT_BECAUSE(plan, "sha256:app2", "takes from a variable the agent lacks");

  // ${REGISTRY}/app:1 or app${SUFFIX}:1: which repository is unknown.
  for (const char* prefix : {"", "registry.example.com/app"}) {
    api.image_known_prefix = prefix;
    api.unknown["image"] = {"REGISTRY"};
    plan = prune::make_plan(p, inv, prune::ComposeKnowledge::from({shop}), kNow);
    EXPECT_TRUE(plan.candidates.empty()) << prefix;
    EXPECT_NE(plan.refused.find("service api of compose project shop (/srv/shop/docker-compose.yml:3): the repository "
                                "of its image depends on REGISTRY"),
              std::string::npos)
        << plan.refused;
  }
}

// Reproducible builds (ko, jib, nix, SOURCE_DATE_EPOCH) stamp Created with the epoch or
// a fixed date: pulled a minute ago, such an image is not old. Its age runs from the
// latest of Created, LastTagTime and when the agent last saw it used or named.
TEST(PrunePlan, ImageAgeRunsFromTheLatestOfCreatedLastTagTimeAndLastSeen) {
  prune::Inventory inv;
  auto epoch = image("sha256:epoch", {}, 0);
  epoch.created = 0;  // ko, jib
  auto nix = image("sha256:nix", {}, 0);
  nix.created = 1;  // nix
  auto tagged = image("sha256:tagged", {}, 2000);  // SOURCE_DATE_EPOCH years ago ...
  tagged.last_tag_time = kNow - 60;                // ... pulled a minute ago
  auto used = image("sha256:used", {}, 2000);
  auto by_digest = image("sha256:bydigest", {}, 2000);
  by_digest.repo_digests = {"127.0.0.1:5000/app@sha256:" + std::string(64, 'f')};
  auto old = image("sha256:old", {}, 2000);
  old.last_tag_time = kNow - 40 * kDay;
  inv.df.images = {epoch, nix, tagged, used, by_digest, old};
  inv.image_last_seen = {{"sha256:used", kNow - 3600},  // its last container was removed an hour ago
                         {"127.0.0.1:5000/app@sha256:" + std::string(64, 'f'), kNow - 120},  // pulled by digest
                         {"sha256:old", kNow - 30 * kDay}};
  const auto plan = prune::make_plan(policy("images"), inv, {}, kNow);
  EXPECT_EQ(ids(plan.candidates), std::vector<std::string>{"sha256:old"});
  EXPECT_NE(plan.candidates[0].reason.find("30 days old"), std::string::npos) << plan.candidates[0].reason;
  EXPECT_KEPT_BECAUSE(plan, "sha256:epoch", "age is unknown");
  EXPECT_KEPT_BECAUSE(plan, "sha256:nix", "age is unknown");
  EXPECT_KEPT_BECAUSE(plan, "sha256:tagged", "younger than the grace period (60 seconds");
  EXPECT_KEPT_BECAUSE(plan, "sha256:used", "younger than the grace period (60 minutes");
  EXPECT_KEPT_BECAUSE(plan, "sha256:bydigest", "younger than the grace period (2 minutes");
}

TEST(PrunePlan, AStoppedContainerIsAsOldAsItsLastRunAndOneWithoutTimesIsKept) {
  prune::Inventory inv;
  auto crashed = container("crashed", "crashed", "exited", 30);
  crashed.finished_at = kNow - 3600;
  auto long_gone = container("gone", "gone", "exited", 30);
  long_gone.finished_at = kNow - 10 * kDay;
  auto timeless = container("timeless", "timeless", "created", 0);
  timeless.created = 0;
  inv.df.containers = {crashed, long_gone, timeless};
  const auto plan = prune::make_plan(policy("containers"), inv, {}, kNow);
  EXPECT_EQ(ids(plan.candidates), std::vector<std::string>{"gone"});
  EXPECT_KEPT_BECAUSE(plan, "crashed", "younger than the grace period (60 minutes");
  EXPECT_KEPT_BECAUSE(plan, "timeless", "age is unknown");
}

TEST(PrunePlan, VolumesOnlyAnonymousUnreferencedAndOnlyWithAllowVolumes) {
  prune::Inventory inv;
  inv.df.volumes = {volume(kAnon1, 9), volume(kAnon2, 9), volume("pgdata", 9), volume(std::string(64, 'c'), 9),
                    volume(std::string(64, 'd'), 9, 50, {{"com.docker.compose.project", "shop"},
                                                         {"com.docker.compose.volume", "data"}})};
  inv.df.volumes[3].ref_count = 1;
  auto c = container("c1", "web", "exited", 9);
  c.mounts = {{"volume", kAnon2, "", "/data"}};
  inv.df.containers = {c};
  auto p = policy("volumes");
  auto plan = prune::make_plan(p, inv, {}, kNow);
  EXPECT_TRUE(plan.candidates.empty()) << "without allow_volumes nothing, whatever the loader let through";
  EXPECT_KEPT_BECAUSE(plan, kAnon1, "allow_volumes");
  p.allow_volumes = true;
  plan = prune::make_plan(p, inv, {}, kNow);
  EXPECT_EQ(ids(plan.candidates), std::vector<std::string>{kAnon1});
  EXPECT_KEPT_BECAUSE(plan, kAnon2, "mounted by container web (exited)");
  EXPECT_KEPT_BECAUSE(plan, "pgdata", "named volume: never pruned");
  EXPECT_KEPT_BECAUSE(plan, std::string(64, 'c'), "in use by 1 container(s)");
  EXPECT_KEPT_BECAUSE(plan, std::string(64, 'd'), "named volume") << "a compose volume is named, even with a hex name";
}

TEST(PrunePlan, NetworksNeverBuiltInAttachedReferencedOrOfAKnownProject) {
  prune::Inventory inv;
  auto net = [](std::string id, std::string name, std::string driver = "bridge") {
    docker::NetworkSummary n;
    n.id = std::move(id);
    n.name = std::move(name);
    n.driver = std::move(driver);
    n.scope = "local";
    n.created = kNow - 9 * kDay;
    return n;
  };
  inv.networks = {net("b", "bridge"), net("h", "host", "host"), net("n", "none", "null"), net("att", "attached"),
                  net("ref", "referenced"), net("shop", "shop_default"), net("old", "oldproj_default"),
                  net("free", "free")};
  inv.networks[3].attached = 2;
  inv.networks[5].labels = {{"com.docker.compose.project", "shop"}};
  inv.networks[6].labels = {{"com.docker.compose.project", "oldproj"}};
  auto c = container("c1", "stopped", "exited", 9);
  c.network_ids = {"ref"};
  c.network_names = {"referenced"};
  inv.df.containers = {c};
  const auto plan = prune::make_plan(policy("networks"), inv, prune::ComposeKnowledge::from({project("shop", {})}),
                                     kNow);
  auto got = ids(plan.candidates);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"free", "old"}));
  EXPECT_KEPT_BECAUSE(plan, "b", "built-in network");
  EXPECT_KEPT_BECAUSE(plan, "h", "built-in network");
  EXPECT_KEPT_BECAUSE(plan, "att", "2 container(s) attached");
  EXPECT_KEPT_BECAUSE(plan, "ref", "used by container stopped (exited)");
  EXPECT_KEPT_BECAUSE(plan, "shop", "a network of compose project shop");
}

TEST(PrunePlan, BuildCacheKeepsInUseRecordsHonoursKeepStorageAndDeletesChildrenFirst) {
  prune::Inventory inv;
  auto rec = [](std::string id, double age_days, std::int64_t size, std::vector<std::string> parents = {}) {
    docker::BuildCacheRecord r;
    r.id = std::move(id);
    r.type = "regular";
    r.size = size;
    r.last_used_at = kNow - age_days * kDay;
    r.parents = std::move(parents);
    return r;
  };
  inv.df.build_cache = {rec("base", 10, 100), rec("child", 9, 200, {"base"}), rec("grandchild", 8, 300, {"child"}),
                        rec("busy", 10, 400), rec("fresh", 0.1, 500), rec("image-layer", 10, 0)};
  inv.df.build_cache[3].in_use = true;
  inv.df.build_cache[5].shared = true;
  auto p = policy("build_cache");
  auto plan = prune::make_plan(p, inv, {}, kNow);
  EXPECT_EQ(ids(plan.candidates), (std::vector<std::string>{"grandchild", "child", "base"}))
      << "oldest first, but never a record before one that builds on it";
  EXPECT_KEPT_BECAUSE(plan, "busy", "in use by a build");
  EXPECT_KEPT_BECAUSE(plan, "fresh", "younger than the grace period");
  EXPECT_KEPT_BECAUSE(plan, "image-layer", "shared with an image");

  // 1500 bytes in all: records go in deletion order until what stays fits.
  p.keep_storage_bytes = 1000;
  plan = prune::make_plan(p, inv, {}, kNow);
  EXPECT_EQ(ids(plan.candidates), (std::vector<std::string>{"grandchild", "child"}));
  EXPECT_KEPT_BECAUSE(plan, "base", "keep_storage");
  p.keep_storage_bytes = 1200;
  plan = prune::make_plan(p, inv, {}, kNow);
  EXPECT_EQ(ids(plan.candidates), (std::vector<std::string>{"grandchild"}))
      << "the oldest record cannot go while a younger one builds on it";
  p.keep_storage_bytes = 5000;
  EXPECT_TRUE(prune::make_plan(p, inv, {}, kNow).candidates.empty());
}

TEST(PrunePlan, BrakesHoldBackTheRestOldestGoFirst) {
  prune::Inventory inv;
  for (int i = 0; i < 5; ++i) inv.df.images.push_back(image("sha256:" + std::to_string(i), {}, 10 + i, 1000));
  auto p = policy("images");
  p.max_objects = 2;
  auto plan = prune::make_plan(p, inv, {}, kNow);
  EXPECT_EQ(ids(plan.candidates), (std::vector<std::string>{"sha256:4", "sha256:3"}));
  EXPECT_EQ(plan.kept.size(), 3u);
  EXPECT_KEPT_BECAUSE(plan, "sha256:2", "held back: max_objects 2 reached");
  p.max_objects.reset();
  p.max_bytes = 3500;
  plan = prune::make_plan(p, inv, {}, kNow);
  EXPECT_EQ(plan.candidates.size(), 3u);
  EXPECT_EQ(plan.candidate_bytes(), 3000);
  EXPECT_KEPT_BECAUSE(plan, "sha256:1", "held back: max_bytes");
}

// Sizes come from the engine: the parser refuses negative and absurd ones
// (docker/objects_test), and the sums a brake compares saturate instead of wrapping.
TEST(PrunePlan, BrakeSumsNeitherWrapNorGoNegative) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(prune::add_bytes(kMax - 1, 5), kMax);
  EXPECT_EQ(prune::add_bytes(-1'000'000, 5), 5) << "a negative size counts as nothing, never as a credit";
  prune::Inventory inv;
  inv.df.images = {image("sha256:big", {}, 12, docker::kMaxObjectBytes), image("sha256:small", {}, 11, 1000)};
  // SharedSize above Size, as a hostile engine could say: never a negative size.
  auto odd = image("sha256:odd", {}, 13, 10, 0);
  odd.shared_size = 10;
  inv.df.images.push_back(odd);
  auto p = policy("images");
  p.max_bytes = 5000;
  const auto plan = prune::make_plan(p, inv, {}, kNow);
  for (const auto& e : plan.candidates) EXPECT_GE(e.size, 0) << e.id;
  EXPECT_LE(plan.candidate_bytes(), 5000);
  EXPECT_KEPT_BECAUSE(plan, "sha256:big", "held back: max_bytes");
}

TEST(PrunePlan, AnObjectWithoutACreationTimeIsKept) {
  prune::Inventory inv;
  auto v = volume(kAnon1, 0);
  v.created_at.reset();
  inv.df.volumes = {v};
  auto p = policy("volumes");
  p.allow_volumes = true;
  const auto plan = prune::make_plan(p, inv, {}, kNow);
  EXPECT_TRUE(plan.candidates.empty());
  EXPECT_KEPT_BECAUSE(plan, kAnon1, "age is unknown");
}

TEST(PrunePlan, FormatAge) {
  EXPECT_EQ(prune::format_age(30), "30 seconds");
  EXPECT_EQ(prune::format_age(1), "1 second");
  EXPECT_EQ(prune::format_age(600), "10 minutes");
  EXPECT_EQ(prune::format_age(5 * 3600), "5 hours");
  EXPECT_EQ(prune::format_age(3 * kDay), "3 days");
}

// The guard on its own, asked directly as the executor asks it right before a deletion:
// whatever the policy, these objects are refused.
TEST(PruneGuard, RefusesWhatMustStayWhateverThePolicy) {
  prune::Inventory inv;
  auto user = container("c1", "web", "exited", 1, "sha256:used");
  user.mounts = {{"volume", kAnon1, "", "/data"}};
  user.network_ids = {"net-used"};
  inv.df.containers = {user};
  const auto compose = prune::ComposeKnowledge::from({project("shop", {{"db", "postgres:16"}})});
  auto anything_goes = policy("volumes");
  anything_goes.allow_volumes = true;
  anything_goes.older_than = std::chrono::seconds(0);
  const prune::Guard guard(inv, compose, anything_goes);

  EXPECT_TRUE(guard.image(image("sha256:used", {}, 9)));
  EXPECT_TRUE(guard.image(image("sha256:pg", {"postgres:16"}, 9)));
  auto digest_only = image("sha256:pgd", {}, 9);
  digest_only.repo_digests = {"postgres@sha256:abc"};
  EXPECT_FALSE(guard.image(digest_only)) << "no compose file names this digest, and none names the tag postgres:latest";
  EXPECT_FALSE(guard.image(image("sha256:free", {"x:1"}, 9)));

  EXPECT_TRUE(guard.container(container("r", "r", "running", 9)));
  EXPECT_TRUE(guard.container(container("p", "p", "paused", 9)));
  EXPECT_TRUE(guard.container(container("s", "s", "restarting", 9)));
  EXPECT_TRUE(guard.container(container("d", "shop_db_1", "exited", 9, "", compose_labels("shop", "db"))));
  EXPECT_FALSE(guard.container(container("e", "e", "exited", 9)));

  EXPECT_TRUE(guard.volume(volume("pgdata", 9)));
  EXPECT_TRUE(guard.volume(volume(kAnon1, 9)));
  EXPECT_FALSE(guard.volume(volume(kAnon2, 9)));

  docker::NetworkSummary used, free;
  used.id = "net-used";
  used.name = "used";
  free.id = "net-free";
  free.name = "free";
  EXPECT_TRUE(guard.network(used));
  EXPECT_FALSE(guard.network(free));

  docker::BuildCacheRecord busy;
  busy.in_use = true;
  EXPECT_TRUE(guard.build_cache(busy));
  EXPECT_FALSE(guard.build_cache(docker::BuildCacheRecord{}));
}
