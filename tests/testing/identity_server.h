// The one set of constants unit tests use for the identity server they script: its issuer, the
// endpoints the agent uses when discovery finds no document (the defaults), and a user.
#ifndef DATAGEN_TESTS_TESTING_IDENTITY_SERVER_H_
#define DATAGEN_TESTS_TESTING_IDENTITY_SERVER_H_

namespace datagen::testing {

inline constexpr char kIssuer[] = "https://id.example";
inline constexpr char kDeviceEndpoint[] = "https://id.example/oauth/device/code";
inline constexpr char kTokenEndpoint[] = "https://id.example/oauth/token";
inline constexpr char kRevokeEndpoint[] = "https://id.example/oauth/revoke";
inline constexpr char kUserinfoEndpoint[] = "https://id.example/v1/me";
inline constexpr char kOtherIssuer[] = "https://other.example";

// A userinfo reply: two organizations, the first the default.
inline constexpr char kYou[] = R"({"email":"you@yourcompany.com","memberships":[
    {"slug":"yourcompany","role":"admin","default":true},{"slug":"test-org","role":"member"}]})";

// A device authorization reply (RFC 8628 3.2): code ABCD-EFGH, valid 10 minutes, polled every
// second.
inline constexpr char kDeviceCodeReply[] =
    R"({"device_code":"dgdc_1","user_code":"ABCD-EFGH","verification_uri":
        "https://id.example/device","expires_in":600,"interval":1})";

}  // namespace datagen::testing

#endif  // DATAGEN_TESTS_TESTING_IDENTITY_SERVER_H_
