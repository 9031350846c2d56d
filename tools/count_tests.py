#!/usr/bin/env python3
"""Counts passed and failed test cases from Bazel's per-target XML reports.

Usage: count_tests.py BAZEL_EXIT_STATUS TESTLOGS_DIR //pkg:target...
Prints one line "N passed, M failed" and exits 1 when M > 0. A target without a report (it
failed to build or was killed) counts as one failed case, and so does a failed `bazel test`
whose reports show no failure (a report left over from an earlier run is not trusted then).
"""
import os
import sys
import xml.etree.ElementTree as ET


def main(argv):
    bazel_status, testlogs, targets = int(argv[1]), argv[2], argv[3:]
    passed = failed = 0
    for target in targets:
        package, _, name = target.lstrip("/").partition(":")
        report = os.path.join(testlogs, package, name, "test.xml")
        try:
            root = ET.parse(report).getroot()
        except (OSError, ET.ParseError):
            print(f"{target}: no test report (did not build or did not finish)", file=sys.stderr)
            failed += 1
            continue
        cases = root.iter("testcase")
        found = 0
        for case in cases:
            found += 1
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
                print(f"{target}: FAILED {case.get('classname')}.{case.get('name')}",
                      file=sys.stderr)
            else:
                passed += 1
        if found == 0:
            # A report without test cases: Bazel's own summary of a crashed or timed-out run.
            failed += 1
            print(f"{target}: report has no test cases", file=sys.stderr)
    if bazel_status != 0 and failed == 0:
        print(f"bazel test exited with {bazel_status} (see its output above)", file=sys.stderr)
        failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
