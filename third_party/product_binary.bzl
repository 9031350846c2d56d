"""The product's binaries (datagen, datagen-agent, datagen-agent-http): linked the same way."""

def product_binary(name, static = True, **kwargs):
    """A cc_binary linked fully static and non-PIE, unless `static` is False (then PIE).

    Fully static and non-PIE: no dynamic loader and no relocation at start. Sanitizer runtimes
    are shared libraries, so under --config=asan/tsan the link is not fully static.
    """
    native.cc_binary(
        name = name,
        linkopts = ["-no-pie"] + select({
            "//third_party:sanitized": [],
            "//conditions:default": ["-static"],
        }) if static else [],
        visibility = ["//visibility:public"],
        **kwargs
    )
