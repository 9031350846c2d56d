"""fuzz_target: a libFuzzer target, its fuzzer binary and its regression test."""

def fuzz_target(name, deps):
    """Defines :<name>_lib, :<name> and :<name>_regression_test.

    :<name> is the libFuzzer binary: clang only (--config=fuzz, tools/fuzz), so it is tagged
    manual and stays out of `bazel test //...`. :<name>_regression_test runs the same entry
    point over corpus/<name>/ and regressions/<name>/ with the normal toolchain, in CI.
    """
    native.cc_library(
        name = name + "_lib",
        testonly = True,
        srcs = [name + ".cc"],
        deps = deps,
        alwayslink = True,
    )
    native.cc_binary(
        name = name,
        testonly = True,
        linkopts = ["-fsanitize=fuzzer"],
        tags = ["manual"],
        deps = [":" + name + "_lib"],
    )
    native.cc_test(
        name = name + "_regression_test",
        size = "small",
        srcs = ["regression_main.cc"],
        args = [
            "tests/fuzz/corpus/" + name,
            "tests/fuzz/regressions/" + name,
        ],
        data = native.glob(["corpus/" + name + "/**", "regressions/" + name + "/**"]),
        deps = [":" + name + "_lib"],
    )
