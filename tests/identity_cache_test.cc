#include "agent/identity_cache.h"

#include "gtest/gtest.h"

namespace datagen {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1000);

server::v1::UserInfo User(const std::string& email) {
  server::v1::UserInfo user;
  user.set_email(email);
  return user;
}

TEST(IdentityCacheTest, FreshWithinTheBoundForThatTokenOnly) {
  IdentityCache cache(absl::Seconds(60));
  cache.Remember("dgat_a", User("a@example.com"), kT0);
  ASSERT_NE(cache.Fresh("dgat_a", kT0 + absl::Seconds(59)), nullptr);
  EXPECT_EQ(cache.Fresh("dgat_a", kT0 + absl::Seconds(59))->email(), "a@example.com");
  EXPECT_EQ(cache.Fresh("dgat_a", kT0 + absl::Seconds(60)), nullptr) << "the bound is strict";
  EXPECT_EQ(cache.Fresh("dgat_b", kT0), nullptr) << "another session's token";
}

TEST(IdentityCacheTest, AZeroBoundIsNeverFresh) {
  IdentityCache cache(absl::ZeroDuration());
  cache.Remember("dgat_a", User("a@example.com"), kT0);
  EXPECT_EQ(cache.Fresh("dgat_a", kT0), nullptr);
}

TEST(IdentityCacheTest, ARefreshCarriesTheIdentityOverAsOldAsItWas) {
  IdentityCache cache(absl::Seconds(60));
  cache.Remember("dgat_a", User("a@example.com"), kT0);
  cache.Rekey("dgat_other", "dgat_x");  // not the cached session: nothing changes
  EXPECT_NE(cache.Fresh("dgat_a", kT0), nullptr);
  cache.Rekey("dgat_a", "dgat_a2");
  EXPECT_EQ(cache.Fresh("dgat_a", kT0), nullptr);
  EXPECT_NE(cache.Fresh("dgat_a2", kT0 + absl::Seconds(30)), nullptr);
  EXPECT_EQ(cache.Fresh("dgat_a2", kT0 + absl::Seconds(61)), nullptr) << "age kept, not reset";
}

TEST(IdentityCacheTest, ForgetDropsEverything) {
  IdentityCache cache(absl::Seconds(60));
  cache.Remember("dgat_a", User("a@example.com"), kT0);
  cache.Forget();
  EXPECT_EQ(cache.Fresh("dgat_a", kT0), nullptr);
  EXPECT_EQ(cache.Fresh("", kT0), nullptr) << "an empty token never matches";
}

}  // namespace
}  // namespace datagen
