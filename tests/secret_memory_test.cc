// Tokens the agent drops are wiped: every byte the string owned reads zero afterwards.
#include "agent/common/secret_memory.h"

#include <string>

#include "gtest/gtest.h"

namespace datagen {
namespace {

// True when the `size` bytes at `bytes` are all zero.
bool AllZero(const char* bytes, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

TEST(SecretMemoryTest, WipeStringZeroesTheWholeBufferNotOnlyItsSize) {
  std::string secret(200, 'x');
  secret.resize(10);  // 190 bytes of an older, longer value still sit past the end
  const char* buffer = secret.data();
  size_t capacity = secret.capacity();
  WipeString(&secret);
  EXPECT_TRUE(secret.empty());
  EXPECT_EQ(secret.data(), buffer);  // wiped in place, never reallocated
  EXPECT_TRUE(AllZero(buffer, capacity));
}

TEST(SecretMemoryTest, WipeStringZeroesAShortStringHeldInline) {
  std::string secret = "tok";
  const char* buffer = secret.data();
  size_t capacity = secret.capacity();
  WipeString(&secret);
  EXPECT_TRUE(AllZero(buffer, capacity));
  secret = "still usable";
  EXPECT_EQ(secret, "still usable");
}

TEST(SecretMemoryTest, WipeCredentialsZeroesBothTokensAndClearsTheRest) {
  agent::v1::Credentials credentials;
  credentials.set_token(std::string(64, 'a'));
  credentials.set_refresh_token(std::string(64, 'r'));
  credentials.set_email("ada@example.com");
  const char* token = credentials.token().data();
  const char* refresh = credentials.refresh_token().data();
  WipeCredentials(&credentials);
  EXPECT_TRUE(AllZero(token, 64));
  EXPECT_TRUE(AllZero(refresh, 64));
  EXPECT_EQ(credentials.ByteSizeLong(), 0u);
}

TEST(SecretMemoryTest, WipeCredentialsResetsAnOptionalAndAcceptsAnEmptyOne) {
  std::optional<agent::v1::Credentials> held = agent::v1::Credentials();
  held->set_token(std::string(40, 't'));
  WipeCredentials(&held);
  EXPECT_FALSE(held.has_value());
  WipeCredentials(&held);
  EXPECT_FALSE(held.has_value());
}

TEST(SecretMemoryTest, ReplaceSecretTakesTheNewValueAndKeepsAnEqualOne) {
  // Its wipe is WipeString's (above); the old buffer is freed after it, so it cannot be read here.
  std::string held(48, 'o');
  ReplaceSecret(&held, std::string(48, 'n'));
  EXPECT_EQ(held, std::string(48, 'n'));
  const char* buffer = held.data();
  ReplaceSecret(&held, std::string(48, 'n'));
  EXPECT_EQ(held.data(), buffer);  // the same token is not rewritten
  EXPECT_EQ(held, std::string(48, 'n'));
  ReplaceSecret(&held, "");
  EXPECT_TRUE(held.empty());
}

}  // namespace
}  // namespace datagen
