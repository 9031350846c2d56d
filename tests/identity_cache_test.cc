#include "agent/session/identity_cache.h"

#include "gtest/gtest.h"

namespace datagen {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1000);
const absl::Time kWall = absl::FromUnixSeconds(1800000000);

server::v1::UserInfo User(const std::string& email) {
  server::v1::UserInfo user;
  user.set_email(email);
  return user;
}

TEST(IdentityCacheTest, FreshWithinTheBoundForThatTokenOnly) {
  IdentityCache cache(absl::Seconds(60));
  cache.Remember("dgat_a", User("a@example.com"), kT0, kWall);
  ASSERT_NE(cache.Fresh("dgat_a", kT0 + absl::Seconds(59)), nullptr);
  EXPECT_EQ(cache.Fresh("dgat_a", kT0 + absl::Seconds(59))->email(), "a@example.com");
  EXPECT_EQ(cache.Fresh("dgat_a", kT0 + absl::Seconds(60)), nullptr) << "the bound is strict";
  EXPECT_EQ(cache.Fresh("dgat_b", kT0), nullptr) << "another session's token";
}

TEST(IdentityCacheTest, AZeroBoundIsNeverFresh) {
  IdentityCache cache(absl::ZeroDuration());
  cache.Remember("dgat_a", User("a@example.com"), kT0, kWall);
  EXPECT_EQ(cache.Fresh("dgat_a", kT0), nullptr);
}

TEST(IdentityCacheTest, ARefreshCarriesTheIdentityOverAsOldAsItWas) {
  IdentityCache cache(absl::Seconds(60));
  cache.Remember("dgat_a", User("a@example.com"), kT0, kWall);
  cache.Rekey("dgat_other", "dgat_x");  // not the cached session: nothing changes
  EXPECT_NE(cache.Fresh("dgat_a", kT0), nullptr);
  cache.Rekey("dgat_a", "dgat_a2");
  EXPECT_EQ(cache.Fresh("dgat_a", kT0), nullptr);
  EXPECT_NE(cache.Fresh("dgat_a2", kT0 + absl::Seconds(30)), nullptr);
  EXPECT_EQ(cache.Fresh("dgat_a2", kT0 + absl::Seconds(61)), nullptr) << "age kept, not reset";
}

TEST(IdentityCacheTest, ForgetDropsEverything) {
  IdentityCache cache(absl::Seconds(60));
  cache.Remember("dgat_a", User("a@example.com"), kT0, kWall);
  cache.Forget();
  EXPECT_EQ(cache.Fresh("dgat_a", kT0), nullptr);
  EXPECT_EQ(cache.Fresh("", kT0), nullptr) << "an empty token never matches";
}

TEST(IdentityCacheTest, KnownAtAnyAgeWithTheTimeOfTheLastConfirmation) {
  IdentityCache cache(absl::Seconds(60));
  EXPECT_EQ(cache.Known("dgat_a"), nullptr);
  EXPECT_EQ(cache.confirmed_at(), absl::InfinitePast());
  cache.Remember("dgat_a", User("a@example.com"), kT0, kWall);
  EXPECT_EQ(cache.Fresh("dgat_a", kT0 + absl::Hours(5)), nullptr);
  ASSERT_NE(cache.Known("dgat_a"), nullptr);
  EXPECT_EQ(cache.Known("dgat_a")->email(), "a@example.com");
  EXPECT_EQ(cache.Known("dgat_b"), nullptr);
  EXPECT_EQ(cache.confirmed_at(), kWall);
}

TEST(IdentityCacheTest, UnreachableLastsUntilTheNextConfirmationOrForget) {
  IdentityCache cache(absl::Seconds(60));
  cache.Remember("dgat_a", User("a@example.com"), kT0, kWall);
  cache.NoteUnreachable("connection refused");
  EXPECT_EQ(cache.unreachable(), "connection refused");
  EXPECT_NE(cache.Known("dgat_a"), nullptr) << "still known: shown, marked unverified";
  cache.Remember("dgat_a", User("a@example.com"), kT0 + absl::Seconds(90),
                 kWall + absl::Seconds(90));
  EXPECT_EQ(cache.unreachable(), "");
  EXPECT_EQ(cache.confirmed_at(), kWall + absl::Seconds(90));
  cache.NoteUnreachable("timed out");
  cache.Forget();
  EXPECT_EQ(cache.unreachable(), "");
  EXPECT_EQ(cache.confirmed_at(), absl::InfinitePast());
}

}  // namespace
}  // namespace datagen
