#!/usr/bin/env python3
"""Every GoogleTest suite is named once.

A suite name (the first argument of TEST, TEST_F, TEST_P, TYPED_TEST) belongs to one test
binary and one source file, so that `ctest -R Suite` and `--gtest_filter=Suite.*` select
exactly the tests of one file. The test binaries are the folders of tests/ (unit,
integration, systemd, image, storm); tests/support and tests/fixtures hold none.

The suite lists of tests/CMakeLists.txt that give tests their labels (set(NAME_SUITES
"A.*:B.*")) must name suites of their binary, so that a renamed suite cannot drop out of
its label unnoticed.

  scripts/check-test-names.py [REPO_ROOT]

Exits 1 naming each file and line at fault, 0 when every name is unique.
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
TESTS = ROOT / "tests"
NOT_BINARIES = {"support", "fixtures"}
# The label lists of tests/CMakeLists.txt, and the binary whose suites each one names.
SUITE_LISTS = {"THREADED_UNIT_SUITES": "unit", "ASAN_CI_INTEGRATION_SUITES": "integration"}

TEST_MACRO = re.compile(r"^\s*(?:TEST|TEST_F|TEST_P|TYPED_TEST|TYPED_TEST_P)\(\s*(\w+)\s*,", re.M)


def suites():
    """{suite: [(binary, file, line)]} over every test source."""
    found = {}
    for path in sorted(TESTS.rglob("*.cpp")):
        binary = path.relative_to(TESTS).parts[0]
        if binary in NOT_BINARIES or len(path.relative_to(TESTS).parts) < 2:
            continue
        text = path.read_text(encoding="utf-8")
        for m in TEST_MACRO.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            found.setdefault(m.group(1), []).append((binary, path.relative_to(ROOT), line))
    return found


def main():
    found = suites()
    problems = []
    for name, places in sorted(found.items()):
        binaries = sorted({b for b, _, _ in places})
        files = sorted({str(f) for _, f, _ in places})
        if len(binaries) > 1 or len(files) > 1:
            first = {}
            for _, f, line in places:
                first.setdefault(str(f), line)
            where = ", ".join(f"{f}:{first[f]}" for f in files)
            what = f"the {' and '.join(binaries)} tests" if len(binaries) > 1 else "more than one file"
            problems.append(f"suite {name} is named in {what}: {where}")

    cmake = TESTS / "CMakeLists.txt"
    text = cmake.read_text(encoding="utf-8")
    for var, binary in SUITE_LISTS.items():
        m = re.search(r'set\(\s*' + var + r'\s+"([^"]*)"\s*\)', text)
        if not m:
            problems.append(f"{cmake.relative_to(ROOT)}: no set({var} \"...\")")
            continue
        line = text.count("\n", 0, m.start()) + 1
        for entry in filter(None, m.group(1).split(":")):
            suite = entry[:-2] if entry.endswith(".*") else None
            if suite is None:
                problems.append(f"{cmake.relative_to(ROOT)}:{line}: {var}: '{entry}' is not of the form Suite.*")
            elif not any(b == binary for b, _, _ in found.get(suite, [])):
                problems.append(f"{cmake.relative_to(ROOT)}:{line}: {var} names {suite}, "
                                f"which is no suite of the {binary} tests")

    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s); suite names: scripts/check-test-names.py", file=sys.stderr)
        return 1
    print(f"{len(found)} suites, each named once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
