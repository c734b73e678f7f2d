// Secrets kept out of what composewatch shows about a compose project: the mask's rules on
// text, and the loader giving it the project's secrets (healthcheck tests in drift details,
// load errors).

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "composewatch/compose/drift.h"
#include "composewatch/compose/loader.h"
#include "composewatch/compose/mask.h"

namespace cc = composewatch::compose;
namespace fs = std::filesystem;

namespace {

TEST(ComposeMask, HidesGivenValuesWhereTheyStandAlone) {
  cc::SecretMask mask;
  mask.add("hunter2");
  mask.add("ab");  // too short to search for
  mask.add("hunter2-long");
  EXPECT_EQ(mask.apply("curl -u admin:hunter2 http://x"), "curl -u admin:***** http://x");
  EXPECT_EQ(mask.apply("[CMD, check, --token, hunter2-long]"), "[CMD, check, --token, *****]");
  EXPECT_EQ(mask.apply("'hunter2'"), "'*****'");
  EXPECT_EQ(mask.apply("xhunter2 hunter23"), "xhunter2 hunter23") << "inside longer words: another word";
  EXPECT_EQ(mask.apply("ab abc"), "ab abc");
  EXPECT_TRUE(cc::SecretMask{}.empty());
  EXPECT_EQ(cc::SecretMask{}.apply("PATH=/bin ls"), "PATH=/bin ls");
}

TEST(ComposeMask, HidesValuesOfSecretLookingKeysAndUrlPasswords) {
  const cc::SecretMask none;
  EXPECT_EQ(none.apply("[CMD-SHELL, PGPASSWORD=s3cr3t pg_isready -U app]"),
            "[CMD-SHELL, PGPASSWORD=***** pg_isready -U app]");
  EXPECT_EQ(none.apply("MYSQL_ROOT_PASSWORD='two words' mysqladmin ping"), "MYSQL_ROOT_PASSWORD='*****' mysqladmin ping");
  EXPECT_EQ(none.apply("check --api-token=abc; echo ok"), "check --api-token=*****; echo ok");
  EXPECT_EQ(none.apply("redis-cli -u redis://default:pw@localhost:6379 ping"),
            "redis-cli -u redis://default:*****@localhost:6379 ping");
  // Not secrets by the rule check uses: _FILE points at a secret, other keys are plain.
  EXPECT_EQ(none.apply("DB_PASSWORD_FILE=/run/secrets/db LEVEL=debug http://user@host/"),
            "DB_PASSWORD_FILE=/run/secrets/db LEVEL=debug http://user@host/");
}

class ComposeMaskLoaded : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cw-mask-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

// A healthcheck that carries a secret after interpolation: the drift detail shows the
// declared and the container's test without it.
TEST_F(ComposeMaskLoaded, HealthcheckTestsInDriftDetailsHideTheProjectsSecrets) {
  write(".env", "ADMIN_PASS=from-dot-env-1\n");
  cc::LoadOptions o;
  o.files = {write("compose.yml", R"(services:
  api:
    image: api:1
    environment:
      API_TOKEN: literal-token-9
    healthcheck:
      test: ["CMD-SHELL", "curl -fsu admin:${ADMIN_PASS} http://localhost/health && echo $SHOWN"]
)")};
  o.environment = {{"SHOWN", "plain-value-7"}, {"UNUSED_VALUE", "not-referenced"}, {"OTHER_SECRET", "env-secret-3"}};
  const cc::Project p = cc::load_project(o);
  const cc::Service& api = p.services.at("api");
  ASSERT_TRUE(api.healthcheck);
  composewatch::docker::HealthcheckConfig live;
  live.test = {"CMD-SHELL", "curl -fsu admin:from-dot-env-1 -H 'X-Token: literal-token-9' http://localhost/ready "
                            "env-secret-3 not-referenced"};
  const auto detail = cc::healthcheck_drift(api.healthcheck, live);
  ASSERT_TRUE(detail);
  EXPECT_EQ(*detail,
            "declared vs container: test [CMD-SHELL, curl -fsu admin:***** http://localhost/health && echo *****] vs "
            "[CMD-SHELL, curl -fsu admin:***** -H 'X-Token: *****' http://localhost/ready ***** not-referenced]");
  EXPECT_EQ(api.healthcheck->test[1], "curl -fsu admin:from-dot-env-1 http://localhost/health && echo plain-value-7")
      << "the model keeps the values: drift compares them";
}

// A load error that quotes a value from the environment does not show it; the file and
// line are still there.
TEST_F(ComposeMaskLoaded, LoadErrorsHideValuesFromTheEnvironment) {
  cc::LoadOptions o;
  o.files = {write("compose.yml", "services:\n  db:\n    image: db:1\n    healthcheck:\n"
                                  "      test: [\"pg_isready --password ${DB_PASSWORD}\"]\n")};
  o.environment = {{"DB_PASSWORD", "s3cret-db-pw"}};
  try {
    cc::load_project(o);
    FAIL() << "no error";
  } catch (const cc::LoadError& e) {
    EXPECT_EQ(std::string(e.what()), o.files[0] + ":5: healthcheck.test must start with NONE, CMD or CMD-SHELL, got "
                                                  "'pg_isready --password *****'");
    EXPECT_EQ(e.location.line, 5);
  }
  o.files = {write("compose.yml", "services:\n  db:\n    image: db:1\n    restart: ${POLICY}\n")};
  o.environment = {{"POLICY", "sometimes"}};
  try {
    cc::load_project(o);
    FAIL() << "no error";
  } catch (const cc::LoadError& e) {
    EXPECT_NE(std::string(e.what()).find("invalid restart policy '*****'"), std::string::npos) << e.what();
  }
}

}  // namespace
