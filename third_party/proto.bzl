"""C++ code generation for .proto files with Debian's protoc and grpc_cpp_plugin (offline).

Bazel 4.2.3's proto rules would download protobuf's sources; this macro runs the system's
/usr/bin/protoc in a genrule instead. Import paths are relative to the calling package.
"""

def proto_cc_library(name, srcs, grpc = False, deps = [], visibility = None):
    """Generates C++ for `srcs` (.proto files in this package) and wraps it in a cc_library.

    Args:
      name: the cc_library's name.
      srcs: .proto files, relative to this package; their import path is the same.
      grpc: also generate gRPC service code with grpc_cpp_plugin.
      deps: other proto_cc_library targets of this package whose .proto files `srcs` import.
      visibility: of the cc_library.
    """
    pkg = native.package_name()
    outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc"]
        if grpc:
            outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
    plugin = ""
    if grpc:
        plugin = "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin --grpc_out=$(GENDIR)/%s " % pkg
    native.genrule(
        name = name + "_gen",
        srcs = srcs + [d + "_srcs" for d in deps],
        outs = outs,
        cmd = "/usr/bin/protoc -I%s -I/usr/include --cpp_out=$(GENDIR)/%s %s%s" % (
            pkg,
            pkg,
            plugin,
            " ".join(["%s/%s" % (pkg, s) for s in srcs]),
        ),
    )
    native.filegroup(name = name + "_srcs", srcs = srcs, visibility = visibility)
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        includes = ["."],
        deps = deps + ["//third_party:grpc++", "//third_party:protobuf"],
        visibility = visibility,
    )
