#!/usr/bin/python3
"""Add up the results of the unit tests (automake .trs files) and the system
tests (pytest JUnit XML) and print them, ending with "N passed, N failed".

Usage: test-summary.py BUILDDIR JUNIT_XML
Exit status 1 when a test failed or no test ran at all.
"""
import os
import sys
import xml.etree.ElementTree as ET


def count_unit(builddir):
    passed = failed = skipped = 0
    failures = []
    for root, _dirs, files in os.walk(builddir):
        for name in files:
            if not name.endswith(".trs"):
                continue
            path = os.path.join(root, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    if not line.startswith(":test-result:"):
                        continue
                    result = line.split(":", 2)[2].strip().split(" ", 1)
                    verdict = result[0]
                    if verdict in ("PASS", "XFAIL"):
                        passed += 1
                    elif verdict == "SKIP":
                        skipped += 1
                    else:
                        failed += 1
                        label = result[1] if len(result) > 1 else ""
                        failures.append(f"{os.path.relpath(path, builddir)[:-4]} {label}".strip())
    return passed, failed, skipped, failures


def count_system(junit):
    if not os.path.exists(junit):
        return 0, 1, 0, ["system tests: no result file (pytest did not run)"]
    passed = failed = skipped = 0
    failures = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            failures.append(name)
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped, failures


def main():
    builddir, junit = sys.argv[1], sys.argv[2]
    up, uf, us, ufail = count_unit(builddir)
    sp, sf, ss, sfail = count_system(junit)
    print(f"unit and fuzz replay: {up} passed, {uf} failed, {us} skipped")
    print(f"system: {sp} passed, {sf} failed, {ss} skipped")
    for name in ufail + sfail:
        print(f"FAILED: {name}")
    passed, failed = up + sp, uf + sf
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
