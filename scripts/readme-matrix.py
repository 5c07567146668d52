#!/usr/bin/env python3
"""The README's reference-vs-Go matrix: the block between `<!-- matrix:begin -->` and
`<!-- matrix:end -->` is the output of `plugspec compare --format markdown` over the reference
loader's and Go's reports (see .ci/run).

    scripts/readme-matrix.py MATRIX.md          # writes it into README.md
    scripts/readme-matrix.py --check MATRIX.md  # fails when README.md shows another
"""
import sys

BEGIN, END = "<!-- matrix:begin -->\n", "<!-- matrix:end -->\n"


def main() -> int:
    args = sys.argv[1:]
    check = bool(args) and args[0] == "--check"
    if check:
        args = args[1:]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    matrix = open(args[0], encoding="utf-8").read()
    readme = open("README.md", encoding="utf-8").read()
    if readme.count(BEGIN) != 1 or readme.count(END) != 1:
        print("README.md: no single matrix block (<!-- matrix:begin --> … <!-- matrix:end -->)", file=sys.stderr)
        return 1
    head, rest = readme.split(BEGIN)
    shown, tail = rest.split(END)
    if shown == matrix:
        return 0
    if check:
        print(
            f"README.md's matrix is not {args[0]} (the current reports): "
            f"update it with `scripts/readme-matrix.py {args[0]}`",
            file=sys.stderr,
        )
        return 1
    with open("README.md", "w", encoding="utf-8") as f:
        f.write(head + BEGIN + matrix + END + tail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
