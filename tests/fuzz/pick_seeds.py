#!/usr/bin/env python3
"""Copy the few fuzzer inputs that reach code the seeds do not reach.

    pick_seeds.py [--max N] PROGRAM SEEDS CORPUS

PROGRAM is a target built with --enable-fuzzing, SEEDS its seed folder in
the source tree and CORPUS the folder a fuzzing run filled.  The script runs
`PROGRAM -merge=1` with a copy of SEEDS as the first corpus and reads
libFuzzer's merge control file.  In that file, the COV line of an input lists
the coverage edges that no input before it reached.  libFuzzer runs the inputs
in the order the file lists them: the whole first corpus, then the new inputs
from smallest to largest.  So an input of CORPUS with a non-empty COV line
reaches edges that no seed reaches, and each new edge is counted once, for the
smallest input that reaches it.

The script copies at most N of those inputs (25 by default), most new edges
first and smaller first among equals, into SEEDS as found-HASH, where HASH is
the first 16 hex digits of the input's SHA-1.  It prints how many new edges
the copied inputs reach out of all new edges.  A plain `-merge=1` into SEEDS
would keep every input with a new feature, often hundreds.

The control file format and the order are those of libFuzzer in clang 14
(checked on its output): two counts, the file names, then STARTED, FT and COV
lines per input.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile


def read_new_edges(control_path):
    """Read a merge control file into its paths and {index: new edges}.

    Only inputs after the first corpus with at least one new edge are in the dict.
    """
    with open(control_path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    count, first_count = int(lines[0]), int(lines[1])
    paths = lines[2:2 + count]
    edges = {}
    for line in lines[2 + count:]:
        fields = line.split()
        if fields[0] == "COV" and int(fields[1]) >= first_count and len(fields) > 2:
            edges[int(fields[1])] = fields[2:]
    return paths, edges


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=25, help="maximum number of inputs to copy")
    parser.add_argument("program")
    parser.add_argument("seeds")
    parser.add_argument("corpus")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dz-pick-seeds-") as work:
        first = os.path.join(work, "seeds")
        shutil.copytree(args.seeds, first)
        control = os.path.join(work, "merge-control")
        run = subprocess.run([os.path.abspath(args.program), "-merge=1",
                              "-merge_control_file=" + control, "-timeout=10",
                              "-rss_limit_mb=2048", first, os.path.abspath(args.corpus)],
                             cwd=work, capture_output=True, text=True, check=False)
        if run.returncode != 0 or not os.path.exists(control):
            sys.stderr.write(run.stderr[-4000:])
            sys.exit(f"pick_seeds: {args.program} -merge=1 failed with status {run.returncode}")
        paths, edges = read_new_edges(control)
        ranked = sorted(edges, key=lambda i: (-len(edges[i]), os.path.getsize(paths[i])))
        copied = ranked[:args.max]
        for index in copied:
            with open(paths[index], "rb") as f:
                digest = hashlib.sha1(f.read()).hexdigest()[:16]
            shutil.copyfile(paths[index], os.path.join(args.seeds, "found-" + digest))

    total = sum(len(e) for e in edges.values())
    copied_edges = sum(len(edges[i]) for i in copied)
    print(f"pick_seeds: {len(edges)} inputs reach {total} new edges; "
          f"copied {len(copied)} of them, which reach {copied_edges}")


if __name__ == "__main__":
    main()
