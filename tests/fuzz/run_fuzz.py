#!/usr/bin/env python3
"""Run libFuzzer targets one after the other and print their figures.

`make fuzz` calls this in a build configured with CC=clang --enable-fuzzing.
Each target fuzzes for at most --seconds seconds or --runs executions,
whichever ends first, at the lowest CPU priority, starting from its seed
corpus in the source tree.  New inputs go to BUILD/fuzz-corpus/NAME (the
seed folder is only read), crash, leak, timeout and out-of-memory inputs to
BUILD/fuzz-artifacts/NAME/, and libFuzzer's output to
BUILD/fuzz-logs/NAME.log.

At the end it prints one Markdown table row per target: executions,
seconds (from libFuzzer's "Done N runs in S second(s)"), executions per
second, coverage (libFuzzer's cov: edges and ft: features),
corpus size (inputs/bytes) from libFuzzer's last status line, and the inputs
that failed.  The exit status is 1 when any target failed or did not run.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

STATUS = re.compile(r"^#(\d+)\s+\S+\s+cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)(?: .*exec/s: (\d+))?")
EXECUTED = re.compile(r"^stat::number_of_executed_units: (\d+)")
PER_SECOND = re.compile(r"^stat::average_exec_per_sec:\s+(\d+)")
DONE = re.compile(r"^Done (\d+) runs in (\d+) second")


def run_target(builddir, srcdir, name, args):
    program = os.path.join(builddir, "tests", "fuzz", "fuzz_" + name)
    seeds = os.path.join(srcdir, "tests", "fuzz", name)
    corpus = os.path.join(builddir, "fuzz-corpus", name)
    artifacts = os.path.join(builddir, "fuzz-artifacts", name)
    work = os.path.join(builddir, "fuzz-logs", name)
    for folder in (corpus, artifacts, work):
        os.makedirs(folder, exist_ok=True)
    command = ["nice", "-n", str(args.nice), os.path.abspath(program),
               f"-max_total_time={args.seconds}", f"-runs={args.runs}",
               f"-timeout={args.timeout}", f"-rss_limit_mb={args.rss_limit_mb}",
               f"-jobs={args.jobs}", f"-workers={args.workers}", "-print_final_stats=1",
               "-artifact_prefix=" + os.path.abspath(artifacts) + "/",
               *args.libfuzzer_flag, os.path.abspath(corpus), os.path.abspath(seeds)]
    print(f"fuzz: {name}: {' '.join(command)}", flush=True)
    subprocess.run(command, cwd=work, stdout=subprocess.DEVNULL,
                   stderr=subprocess.STDOUT, check=False)

    # With -jobs, libFuzzer writes each job's output to fuzz-JOB.log in its folder.
    log_path = os.path.join(builddir, "fuzz-logs", name + ".log")
    with open(log_path, "w", encoding="utf-8", errors="replace") as log:
        for job_log in sorted(glob.glob(os.path.join(work, "fuzz-*.log"))):
            with open(job_log, encoding="utf-8", errors="replace") as f:
                log.write(f.read())
    shutil.rmtree(work)
    return summarise(name, log_path, artifacts)


def summarise(name, log_path, artifacts):
    result = {"name": name, "executions": None, "seconds": None, "per_second": None,
              "cov": None, "ft": None,
              "corpus": None,
              "failures": sorted(os.path.basename(p) for p in glob.glob(os.path.join(artifacts, "*")))}
    with open(log_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            match = STATUS.match(line)
            if match:
                result["cov"], result["ft"] = int(match.group(2)), int(match.group(3))
                result["corpus"] = f"{match.group(4)}/{match.group(5)}"
                if match.group(6):
                    result["per_second"] = int(match.group(6))
            match = EXECUTED.match(line)
            if match:
                result["executions"] = int(match.group(1))
            match = PER_SECOND.match(line)
            if match:
                result["per_second"] = int(match.group(1))
            match = DONE.match(line)
            if match:
                result["seconds"] = int(match.group(2))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builddir", default=".")
    parser.add_argument("--srcdir", default=".")
    parser.add_argument("--seconds", type=int, default=600, help="time limit per target, in seconds")
    parser.add_argument("--runs", type=int, default=1000000, help="execution limit per target")
    parser.add_argument("--timeout", type=int, default=10, help="time limit per input, in seconds")
    parser.add_argument("--rss-limit-mb", type=int, default=2048,
                        help="memory limit of a target process, in MiB")
    parser.add_argument("--jobs", type=int, default=1, help="libFuzzer -jobs")
    parser.add_argument("--workers", type=int, default=1, help="libFuzzer -workers")
    parser.add_argument("--nice", type=int, default=19, help="niceness of the target processes")
    parser.add_argument("--libfuzzer-flag", action="append", default=[],
                        help="another libFuzzer flag, for example -dict=FILE (repeatable)")
    parser.add_argument("targets", nargs="+",
                        help="target names (zonefile, config, ...) or programs (tests/fuzz/fuzz_zonefile)")
    args = parser.parse_args()

    names = [os.path.basename(t).removeprefix("fuzz_") for t in args.targets]
    results = [run_target(args.builddir, args.srcdir, name, args) for name in names]
    print()
    print("| target | executions | seconds | exec/s | cov | ft | corpus (inputs/size) | failing inputs |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        print(f"| {r['name']} | {r['executions']} | {r['seconds']} | {r['per_second']} | "
              f"{r['cov']} | {r['ft']} | "
              f"{r['corpus']} | {', '.join(r['failures']) or 'none'} |")
    return 1 if any(r["failures"] or r["executions"] is None for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
