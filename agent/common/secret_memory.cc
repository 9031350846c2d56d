#include "agent/common/secret_memory.h"

#include <string.h>

#include <utility>

namespace datagen {

void WipeString(std::string* secret) {
  // Growing to the capacity never reallocates, and exposes the bytes a shorter value left behind.
  secret->resize(secret->capacity());
  if (!secret->empty()) explicit_bzero(secret->data(), secret->size());
  secret->clear();
}

void WipeCredentials(agent::v1::Credentials* credentials) {
  WipeString(credentials->mutable_token());
  WipeString(credentials->mutable_refresh_token());
  credentials->Clear();
}

void WipeCredentials(std::optional<agent::v1::Credentials>* credentials) {
  if (credentials->has_value()) WipeCredentials(&**credentials);
  credentials->reset();
}

void ReplaceSecret(std::string* held, std::string value) {
  if (*held == value) return;
  WipeString(held);
  *held = std::move(value);
}

}  // namespace datagen
