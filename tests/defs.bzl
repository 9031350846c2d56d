"""Test macros: every test links GoogleTest's main and the shared fakes."""

def unit_test(name, deps):
    native.cc_test(
        name = name,
        size = "small",
        srcs = [name + ".cc"],
        deps = deps + [
            "//tests/testing:fakes",
            "//tests/testing:status_matchers",
            "//third_party:gtest_main",
        ],
    )

def e2e_test(name, data = [], deps = [], size = "medium"):
    native.cc_test(
        name = name,
        size = size,
        srcs = [name + ".cc"],
        data = data,
        deps = [
            "//agent/common:json",
            "//agent/common:paths",
            "//proto:agent_cc_proto",
            "//tests/testing:e2e_env",
            "//third_party:gtest_main",
        ] + deps,
    )
