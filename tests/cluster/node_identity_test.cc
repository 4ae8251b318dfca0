#include "joulebench/cluster/node_identity.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include "joulebench/error.h"

namespace joulebench::cluster {
namespace {

class NodeIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override { unsetenv("JOULEBENCH_NODE_ID"); }
  void TearDown() override { unsetenv("JOULEBENCH_NODE_ID"); }
};

TEST_F(NodeIdentityTest, DefaultsToTheHostName) {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  const NodeIdentity node = ResolveNodeIdentity();
  EXPECT_EQ(node.id, host);
  EXPECT_EQ(node.hostname, host);
  EXPECT_EQ(node.source, "hostname");
}

TEST_F(NodeIdentityTest, FlagWinsOverEnvironmentWhichWinsOverHostName) {
  setenv("JOULEBENCH_NODE_ID", "node-b", 1);
  EXPECT_EQ(ResolveNodeIdentity().id, "node-b");
  EXPECT_EQ(ResolveNodeIdentity().source, "JOULEBENCH_NODE_ID");
  EXPECT_EQ(ResolveNodeIdentity("node-c").id, "node-c");
  EXPECT_EQ(ResolveNodeIdentity("node-c").source, "--node-id");
}

TEST_F(NodeIdentityTest, IdsThatCannotNameAFileAreRefusedNamingTheirSource) {
  setenv("JOULEBENCH_NODE_ID", "a/b", 1);
  try {
    ResolveNodeIdentity();
    FAIL() << "accepted a/b";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("JOULEBENCH_NODE_ID 'a/b'"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(ResolveNodeIdentity("has space"), InputError);
  EXPECT_THROW(ResolveNodeIdentity("50%"), InputError);
  setenv("JOULEBENCH_NODE_ID", "", 1);
  EXPECT_THROW(ResolveNodeIdentity(), InputError);
}

TEST(ExpandNodePattern, ReplacesPercentNAndKeepsDoubledPercent) {
  EXPECT_EQ(ExpandNodePattern("/fake/%n/sys", "node-a", "--sysfs-root"), "/fake/node-a/sys");
  EXPECT_EQ(ExpandNodePattern("/a/100%%/%n-%n", "x", "--sysfs-root"), "/a/100%/x-x");
  EXPECT_EQ(ExpandNodePattern("/sys", "x", "--sysfs-root"), "/sys");
}

TEST(ExpandNodePattern, OtherPercentSequencesNameTheFlag) {
  try {
    ExpandNodePattern("/fake/%r/sys", "x", "--sysfs-root");
    FAIL() << "accepted %r";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--sysfs-root '/fake/%r/sys': '%r'"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(ExpandNodePattern("/fake/%", "x", "--sysfs-root"), InputError);
}

}  // namespace
}  // namespace joulebench::cluster
