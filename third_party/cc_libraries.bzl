"""The project's C++ libraries, declared as a table: one header per concept (and its .cc)."""

def cc_libraries(libraries):
    """One cc_library per entry of `libraries`, a dict from NAME to its deps.

    The library is NAME.h, with NAME.cc when that file exists (a header-only library has
    none). A library with more files, or other attributes, is a plain cc_library instead.
    The package's default_visibility applies, so the layering (tools/check_layers) holds.
    """
    for name, deps in libraries.items():
        native.cc_library(
            name = name,
            srcs = native.glob([name + ".cc"]),
            hdrs = [name + ".h"],
            deps = deps,
        )
